"""MSG-MCQ: grounded facts from scenes, rendered as questions in four forms."""

"""MSG-Conv: fine-grained tuning conversations from the same grounded facts as MSG-MCQ."""

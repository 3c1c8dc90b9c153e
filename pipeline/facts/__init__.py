"""Grounded facts, shared by MSG-MCQ and MSG-Conv: a scene's referents, the global
statistics, the fact model and the generators that turn a scene into facts (image,
referent, aspect, value, evidence, distractors). Renderers turn facts into items."""

"""One module per `msg` sub-command: each has `add_parser(subparsers)` and `run(args)`."""

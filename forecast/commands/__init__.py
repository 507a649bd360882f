"""CLI sub-command groups. Each module defines ``add_parser(subparsers)``.

``add_parser`` registers one sub-command (or group) and sets ``func`` on the parser
via ``set_defaults(func=...)``; ``func(args) -> int`` returns the exit status.
"""

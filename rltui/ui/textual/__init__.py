"""What rltui adds to Textual itself, below every screen and widget: key names as terminals
send them (:mod:`.keys`), and the one module that reaches Textual's and plotext's private
parts (:mod:`.internals`), with a test that fails by name when either changes them.
"""

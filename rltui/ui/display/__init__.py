"""How the study's data reads on screen: table cells, worker lines and state colours as Rich
text in the theme's semantic colours.

Pure, cheap functions that run for each changed cell on every poll: no widgets, no app, no
I/O. Textual is used only for its theme and its colour parser, so a 16-colour theme gives
16-colour text.
"""

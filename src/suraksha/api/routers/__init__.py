"""One router per area; each is a thin adapter: parse, call one service function, render."""

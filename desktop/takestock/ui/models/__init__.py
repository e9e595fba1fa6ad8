"""Qt item models the screens share the shape of (see ``table``)."""

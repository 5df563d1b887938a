"""Channel names, one function each, so that publishers and subscribers agree."""


def user_channel(user_id: str) -> str:
    """Events addressed to one user: direct messages, typing, receipts, membership."""
    return f"u:{user_id}"


def room_channel(room_id: str) -> str:
    """Events of one room: its messages, typing and joins and leaves."""
    return f"r:{room_id}"


def presence_channel(user_id: str) -> str:
    return f"p:{user_id}"

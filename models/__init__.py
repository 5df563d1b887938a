"""Tortoise ORM models, database setup and migrations."""

"""What each query, mutation and subscription does, as plain async functions.

Nothing here knows GraphQL: the schema, the `/messages` route, the CLI and the tests all
call these functions. They own authorisation, validation, the write and the publish.
"""

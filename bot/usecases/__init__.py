"""Use cases: one function per thing a patient or the registry does, each owning its transaction.

A use case takes plain values (ids, the account acting, the time, the rules), makes the change
through bot/services (which only add and flush), commits or rolls back, and returns a typed
outcome: what changed and which messages are owed to which chats, or why it was refused.
Handlers only turn an update into a call and an outcome into messages. See
docs/architecture.md.
"""

// ABOUTME: The chat page client (web-admin.md §6): agent sidebar, EventSource stream, safe markdown, cards.
// ABOUTME: Placeholder until the chat increment lands.

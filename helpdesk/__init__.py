"""The FAQ: answers to what candidates type, from the knowledge base in locales/ (R40)."""

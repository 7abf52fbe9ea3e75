"""From retrieved passages to a cited answer: the extractive answerer (the default) and its short-answer
spans, the generative (LLM) answerers with citation verification, prompts, and the chat's follow-up
condensing. Nothing here talks to Chroma or reads files; passages come in, a `Draft` goes out."""

"""What the answerers ship with: the one source of these values for `Settings` (what a user may change) and the
answerers' constructor defaults, so that code and tests building one directly run the shipped configuration.
No imports: the settings read this at start-up."""

SENTENCES_EMBEDDED = 10  # candidate sentences embedded per question after the static model's shortlist
SENTENCES_EMBEDDED_PLAIN = 16  # without a shortlist, embedded by the main model
LLM_TIMEOUT = 60.0  # seconds to wait for the LLM to connect, send its first token, or the next one
LLM_PASSAGE_TOKENS = 300  # tokens of each retrieved passage shown to the LLM

"""Start the chat app: build settings, build the assistant, launch the UI."""

from assistant.ui import main

if __name__ == "__main__":
    main()

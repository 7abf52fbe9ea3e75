"""Start the chat app: build settings, build the assistant, launch the UI."""

from assistant.web.ui import main

if __name__ == "__main__":
    main()

"""What the app's Library and saved-sources sections ship with: the one source of these values for `Settings`
and the constructors of `assistant.web.library.Library` and `assistant.web.sources_panel.SourcesPanel`.
No imports: the settings read this at start-up."""

UPLOAD_MAX_MB = 10.0  # largest file the web upload accepts
UPLOAD_MAX_FILES = 20  # most files in one upload
REFRESH_MINUTES = 0.0  # background refresh of saved sources while the app runs; 0 = never

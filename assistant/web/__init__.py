"""The browser front end: the Gradio app (`ui`), its HTML rendering of answers and sources (`render`) and
the article library behind its Library tab (`library`). Only `ui` imports Gradio."""

"""Custom Rasa components, imported by Rasa (cwd = nlu/project) from the Rasa venv."""

"""`python app.py [--port N ...]` starts the chat UI: the same as `aiqa serve`."""

import sys
from pathlib import Path

# Run from a checkout even where aiqa is not installed (e.g. a hosted Gradio app).
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from aiqa.cli import main

if __name__ == "__main__":
    sys.argv[1:1] = ["serve"]
    main()

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # otlp_receiver: a helper of these tests

from pathlib import Path

from pydantic import BaseModel


class AppendArgs(BaseModel):
    path: str
    text: str


class Appended(BaseModel):
    line: str


def record(args: AppendArgs) -> Appended:
    with open(Path(args.path), "a") as fh:
        fh.write(args.text + "\n")
    return Appended(line=args.text)

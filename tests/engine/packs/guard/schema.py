from pydantic import BaseModel


class AppendArgs(BaseModel):
    path: str
    text: str

from pydantic import BaseModel


class Job(BaseModel):
    text: str
    amount: int
    path: str

from pydantic import BaseModel


class Job(BaseModel):
    id: str | None = None  # the caller's request id: submitting it again finds the same run
    text: str
    amount: int
    path: str

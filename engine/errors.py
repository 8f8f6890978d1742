"""The one error type that bad input raises."""


class InputError(ValueError):
    """Bad input: names the field (a JSON path such as ``products[2].lead_time``) and the problem.

    Parameters
    ----------
    field : str
        Where the problem is, as a path into the document.
    problem : str
        What is wrong, in a short sentence.
    """

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NoSolution(RuntimeError):
    """A solver ended without any plan (for example: time limit before a first incumbent)."""

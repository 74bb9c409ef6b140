"""Character n-grams of any string column (SMILES, sequences, free text): the seconds-long floor
representation that a linear model turns into a baseline every run must beat."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import Block


@dataclass
class CharNgramBlock(Block):
    """Sublinear tf-idf of the column's character n-grams (case kept, ``ngram`` = [shortest, longest]),
    n-grams seen in fewer than ``min_df`` training rows dropped, at most ``max_features`` kept (the most
    frequent), each row scaled to unit length. Missing values are empty strings."""

    kind = "char_ngram"
    output = "flat"
    column: str = ""
    ngram: list[int] = field(default_factory=lambda: [1, 5])
    min_df: int = 2
    max_features: int = 50000
    _vec: object = field(default=None, init=False, repr=False)

    def check(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise InputError('Block "char_ngram" needs "column", the name of a string column; add it.')
        ok = (
            isinstance(self.ngram, (list, tuple))
            and len(self.ngram) == 2
            and all(isinstance(k, int) and k >= 1 for k in self.ngram)
            and self.ngram[0] <= self.ngram[1] <= 10
        )
        if not ok:
            raise InputError('Block "char_ngram" needs "ngram" as [shortest, longest] with 1 <= shortest <= '
                             "longest <= 10; fix the representation.")
        if not (isinstance(self.min_df, int) and self.min_df >= 1):
            raise InputError('Block "char_ngram" needs "min_df" as an integer >= 1; fix the representation.')
        if not (isinstance(self.max_features, int) and self.max_features >= 1):
            raise InputError(
                'Block "char_ngram" needs "max_features" as an integer >= 1; fix the representation.'
            )

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def _texts(self, df: pd.DataFrame) -> list[str]:
        return [
            "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in df[self.column]
        ]

    def fit(self, df: pd.DataFrame) -> CharNgramBlock:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = self._texts(df)
        min_df = self.min_df if len(texts) >= 2 * self.min_df else 1
        self._vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=(self.ngram[0], self.ngram[1]),
            lowercase=False,
            min_df=min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            self._vec.fit(texts)
        except ValueError as exc:  # every value empty: no n-gram at all
            raise InputError(f"Column {self.column!r} has no characters to make n-grams from; "
                             "use another column.") from exc
        return self

    def feature_names(self) -> list[str]:
        return (
            [f"{self.column}:{g!r}" for g in self._vec.get_feature_names_out()]
            if self._vec is not None
            else []
        )

    def transform(self, df: pd.DataFrame) -> sparse.csr_matrix:
        return sparse.csr_matrix(self._vec.transform(self._texts(df)), dtype=np.float32)

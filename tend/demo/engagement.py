"""The hidden engagement of each demo customer: a latent score that drifts day by day.

z(t) = μ + slope·age + shock·[t ≥ shock day] + honeymoon·e^(−age/45) + x(t), where x is an
AR(1) process x(t) = φ·x(t−1) + σ·ε. About a third of customers decline steadily and a fifth
suffer a sudden drop (a champion leaves), so usage and churn have a story to tell.

The score drives event rates, trial conversion, expansions and churn, and is never written to
the database. It is replayed rather than stored: two ``Engagement`` objects built from the same
seed produce the same path, which lets the event pass follow the lifecycle pass exactly.
"""

from __future__ import annotations

import numpy as np

PHI = 0.97  # day-to-day persistence: a mood lasts about a month
SIGMA = 0.5 * float(np.sqrt(1 - PHI**2))  # stationary s.d. of x is 0.5


class Engagement:
    def __init__(self, seed: np.random.SeedSequence, signup_day: np.ndarray) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        n = len(signup_day)
        self.rng = rng
        self.signup_day = signup_day
        self.mu = rng.normal(0.0, 0.55, n)
        decliner = rng.random(n) < 0.32
        self.slope = np.where(decliner, -rng.uniform(0.5, 1.8, n), rng.normal(0.05, 0.2, n)) / 365.0
        shocked = rng.random(n) < 0.2
        self.shock = np.where(shocked, -rng.uniform(0.8, 1.8, n), 0.0)
        self.shock_day = signup_day + rng.integers(20, 700, n)
        self.x = rng.normal(0.0, 0.5, n)
        self.z = np.zeros(n)

    def step(self, day: int) -> np.ndarray:
        """Advance one day and return z for every customer (meaningless before sign-up)."""
        self.x = PHI * self.x + SIGMA * self.rng.standard_normal(len(self.x))
        age = np.maximum(day - self.signup_day, 0)
        self.z = (
            self.mu
            + self.slope * age
            + np.where(day >= self.shock_day, self.shock, 0.0)
            + 0.5 * np.exp(-age / 45.0)
            + self.x
        )
        return self.z

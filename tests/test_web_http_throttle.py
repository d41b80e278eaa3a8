"""radio.web.http.throttle: a few wrong passwords, then a wait that ends on its own."""

from radio.web.http.throttle import PER_ADDRESS, PER_NAME_AND_ADDRESS, WINDOW_S, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_mistakes_then_a_wait_that_ends():
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(PER_NAME_AND_ADDRESS - 1):
        throttle.failed("Amina", "10.0.0.5")
        clock.now += 10
    assert throttle.wait_seconds("amina", "10.0.0.5") == 0
    throttle.failed("amina", "10.0.0.5")
    wait = throttle.wait_seconds("AMINA", "10.0.0.5")
    assert WINDOW_S - 60 < wait <= WINDOW_S
    assert throttle.wait_seconds("amina", "10.0.0.6") == 0  # another device
    assert throttle.wait_seconds("juma", "10.0.0.5") == 0  # another person here
    clock.now += wait
    assert throttle.wait_seconds("amina", "10.0.0.5") == 0


def test_guessing_across_names_is_slowed_per_address():
    throttle = LoginThrottle(Clock())
    for n in range(PER_ADDRESS):
        throttle.failed(f"name{n}", "10.0.0.7")
    assert throttle.wait_seconds("someone-new", "10.0.0.7") > 0
    assert throttle.wait_seconds("someone-new", "10.0.0.8") == 0


def test_a_good_login_clears_the_count():
    throttle = LoginThrottle(Clock())
    for _ in range(PER_NAME_AND_ADDRESS - 1):
        throttle.failed("amina", "10.0.0.5")
    throttle.succeeded("amina", "10.0.0.5")
    throttle.failed("amina", "10.0.0.5")
    assert throttle.wait_seconds("amina", "10.0.0.5") == 0

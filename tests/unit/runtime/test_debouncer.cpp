// Live mode's timing rules: a quiet period, a ceiling from the first change, and exactly one more
// run for whatever changed during a run.
#include <catch2/catch.hpp>

#include "anemone/runtime/debouncer.hpp"

using anemone::runtime::ChangeDebouncer;

TEST_CASE("a run is due after the quiet period that follows the last change", "[runtime]") {
  ChangeDebouncer debouncer(30'000, 300'000);
  CHECK_FALSE(debouncer.due_at());
  debouncer.on_change(1'000);
  debouncer.on_change(11'000, 5);
  CHECK(debouncer.due_at() == 41'000);
  CHECK_FALSE(debouncer.due(40'999));
  CHECK(debouncer.due(41'000));
  CHECK(debouncer.pending_changes() == 6);
  CHECK(debouncer.first_change_ms() == 1'000);
}

TEST_CASE("changes that never stop still start a run max_delay after the first", "[runtime]") {
  ChangeDebouncer debouncer(30'000, 300'000);
  for (int64_t t = 0; t <= 400'000; t += 10'000) debouncer.on_change(t);
  CHECK(debouncer.due_at() == 300'000);
}

TEST_CASE("changes during a run make exactly one more run after it", "[runtime]") {
  ChangeDebouncer debouncer(2'000, 10'000);
  debouncer.on_change(0);
  REQUIRE(debouncer.due(2'000));
  debouncer.on_run_started();
  CHECK_FALSE(debouncer.due_at());
  // Many changes while the run goes on: one pending run, due a quiet period after the last.
  for (int64_t t = 2'500; t < 5'000; t += 100) debouncer.on_change(t);
  CHECK(debouncer.due_at() == 4'900 + 2'000);
  debouncer.on_run_started();
  CHECK_FALSE(debouncer.due_at());
  CHECK(debouncer.pending_changes() == 0);
}

TEST_CASE("a failed run's changes stay pending", "[runtime]") {
  ChangeDebouncer debouncer(2'000, 10'000);
  debouncer.on_change(0, 3);
  debouncer.on_run_started();
  debouncer.on_run_failed(5'000, 3);
  CHECK(debouncer.pending_changes() == 3);
  CHECK(debouncer.due_at() == 7'000);
}

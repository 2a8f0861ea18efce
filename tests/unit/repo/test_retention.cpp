// Retention: which snapshots a keep-* policy keeps, per host and source set, and why.
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <random>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "anemone/core/time.hpp"
#include "anemone/repo/retention.hpp"

using namespace anemone;

namespace {

constexpr int64_t k_second = 1000000000;
constexpr int64_t k_hour = 3600 * k_second;
constexpr int64_t k_day = 24 * k_hour;

// Buckets use local time; the expectations below are written for UTC.
void use_utc() {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
}

int64_t at(std::string_view utc) {
  auto time = core::parse_utc(utc);
  REQUIRE(time);
  return *time;
}

repo::Snapshot snapshot_at(int64_t time_ns, std::string host = "server-a",
                           std::vector<std::string> sources = {"data"}) {
  repo::Snapshot s;
  s.time_ns = time_ns;
  s.host = std::move(host);
  for (auto& name : sources) s.sources.push_back({name, "/srv/" + name});
  s.id = fmt::format("{:016x}-{}-{}", time_ns, s.host, s.sources.size());
  return s;
}

std::vector<repo::Snapshot> shuffled(std::vector<repo::Snapshot> snapshots) {
  std::mt19937 random(42);
  std::shuffle(snapshots.begin(), snapshots.end(), random);
  return snapshots;
}

std::vector<int64_t> kept_times(const std::vector<repo::RetentionDecision>& decisions) {
  std::vector<int64_t> times;
  for (const auto& d : decisions)
    if (d.keep) times.push_back(d.snapshot.time_ns);
  std::sort(times.rbegin(), times.rend());
  return times;
}

std::vector<std::string> as_utc(const std::vector<int64_t>& times) {
  std::vector<std::string> out;
  for (auto t : times) out.push_back(core::format_utc(t));
  return out;
}

const repo::RetentionDecision& decision_for(const std::vector<repo::RetentionDecision>& decisions, int64_t time_ns) {
  for (const auto& d : decisions)
    if (d.snapshot.time_ns == time_ns) return d;
  FAIL("no decision for " << core::format_utc(time_ns));
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("retention: keep_last keeps the N newest", "[repo][retention]") {
  use_utc();
  std::vector<repo::Snapshot> snapshots;
  int64_t start = at("2024-05-01T10:00:00Z");
  for (int i = 0; i < 10; ++i) snapshots.push_back(snapshot_at(start + i * 17 * k_second));
  config::Retention policy;
  policy.keep_last = 3;
  auto decisions = repo::apply_retention(shuffled(snapshots), policy);
  REQUIRE(decisions.size() == 10);
  CHECK(kept_times(decisions) ==
        std::vector<int64_t>{start + 9 * 17 * k_second, start + 8 * 17 * k_second, start + 7 * 17 * k_second});
  for (const auto& d : decisions) {
    if (d.keep) CHECK(d.reasons == std::vector<std::string>{"last"});
    else CHECK(d.reasons.empty());
  }
  // Every input appears once in the output, with its identity intact.
  std::vector<std::string> in_ids, out_ids;
  for (const auto& s : snapshots) in_ids.push_back(s.id);
  for (const auto& d : decisions) out_ids.push_back(d.snapshot.id);
  std::sort(in_ids.begin(), in_ids.end());
  std::sort(out_ids.begin(), out_ids.end());
  CHECK(in_ids == out_ids);

  SECTION("keep_last larger than the count keeps everything") {
    policy.keep_last = 50;
    auto all = repo::apply_retention(snapshots, policy);
    CHECK(kept_times(all).size() == 10);
  }
}

TEST_CASE("retention: keep_daily 7 over 30 days of hourly snapshots", "[repo][retention]") {
  use_utc();
  std::vector<repo::Snapshot> snapshots;
  int64_t start = at("2024-03-01T00:00:00Z");
  for (int hour = 0; hour < 30 * 24; ++hour) snapshots.push_back(snapshot_at(start + hour * k_hour));
  config::Retention policy;
  policy.keep_daily = 7;
  auto decisions = repo::apply_retention(shuffled(snapshots), policy);
  CHECK(as_utc(kept_times(decisions)) ==
        std::vector<std::string>{"2024-03-30T23:00:00Z", "2024-03-29T23:00:00Z", "2024-03-28T23:00:00Z",
                                 "2024-03-27T23:00:00Z", "2024-03-26T23:00:00Z", "2024-03-25T23:00:00Z",
                                 "2024-03-24T23:00:00Z"});
  for (const auto& d : decisions)
    if (d.keep) CHECK(d.reasons == std::vector<std::string>{"daily"});

  SECTION("days without a snapshot do not count") {
    // Drop every snapshot of March 28 and 29: the 7 kept days reach further back.
    std::vector<repo::Snapshot> gappy;
    for (const auto& s : snapshots) {
      auto day = core::format_utc(s.time_ns).substr(0, 10);
      if (day != "2024-03-28" && day != "2024-03-29") gappy.push_back(s);
    }
    auto kept = as_utc(kept_times(repo::apply_retention(gappy, policy)));
    CHECK(kept == std::vector<std::string>{"2024-03-30T23:00:00Z", "2024-03-27T23:00:00Z", "2024-03-26T23:00:00Z",
                                           "2024-03-25T23:00:00Z", "2024-03-24T23:00:00Z", "2024-03-23T23:00:00Z",
                                           "2024-03-22T23:00:00Z"});
  }
}

TEST_CASE("retention: keep_hourly keeps the newest of each hour", "[repo][retention]") {
  use_utc();
  std::vector<repo::Snapshot> snapshots;
  int64_t start = at("2024-03-01T00:00:00Z");
  for (int i = 0; i < 6 * 4; ++i) snapshots.push_back(snapshot_at(start + i * 15 * 60 * k_second)); // every 15 min
  config::Retention policy;
  policy.keep_hourly = 3;
  auto decisions = repo::apply_retention(snapshots, policy);
  CHECK(as_utc(kept_times(decisions)) ==
        std::vector<std::string>{"2024-03-01T05:45:00Z", "2024-03-01T04:45:00Z", "2024-03-01T03:45:00Z"});
  CHECK(decision_for(decisions, at("2024-03-01T05:45:00Z")).reasons == std::vector<std::string>{"hourly"});
}

TEST_CASE("retention: keep_weekly uses ISO weeks", "[repo][retention]") {
  use_utc();
  // Daily at noon from Monday 2024-01-01 for 9 full weeks (to Sunday 2024-03-03).
  std::vector<repo::Snapshot> snapshots;
  int64_t start = at("2024-01-01T12:00:00Z");
  for (int day = 0; day < 63; ++day) snapshots.push_back(snapshot_at(start + day * k_day));
  config::Retention policy;
  policy.keep_weekly = 4;
  auto decisions = repo::apply_retention(shuffled(snapshots), policy);
  CHECK(as_utc(kept_times(decisions)) == std::vector<std::string>{"2024-03-03T12:00:00Z", "2024-02-25T12:00:00Z",
                                                                  "2024-02-18T12:00:00Z", "2024-02-11T12:00:00Z"});

  SECTION("a week spanning a new year is one week") {
    // 2020-12-28 (Mon) .. 2021-01-03 (Sun) is ISO week 2020-W53.
    std::vector<repo::Snapshot> span;
    for (int day = 0; day < 7; ++day) span.push_back(snapshot_at(at("2020-12-28T08:00:00Z") + day * k_day));
    span.push_back(snapshot_at(at("2021-01-04T08:00:00Z"))); // 2021-W01
    policy.keep_weekly = 5;
    CHECK(as_utc(kept_times(repo::apply_retention(span, policy))) ==
          std::vector<std::string>{"2021-01-04T08:00:00Z", "2021-01-03T08:00:00Z"});
  }
}

TEST_CASE("retention: keep_monthly and keep_yearly", "[repo][retention]") {
  use_utc();
  SECTION("monthly") {
    std::vector<repo::Snapshot> snapshots;
    int64_t start = at("2024-01-01T06:00:00Z");
    for (int day = 0; day < 366; ++day) snapshots.push_back(snapshot_at(start + day * k_day));
    config::Retention policy;
    policy.keep_monthly = 3;
    auto decisions = repo::apply_retention(shuffled(snapshots), policy);
    CHECK(as_utc(kept_times(decisions)) == std::vector<std::string>{"2024-12-31T06:00:00Z", "2024-11-30T06:00:00Z",
                                                                    "2024-10-31T06:00:00Z"});
    CHECK(decision_for(decisions, at("2024-11-30T06:00:00Z")).reasons == std::vector<std::string>{"monthly"});
  }
  SECTION("yearly") {
    std::vector<repo::Snapshot> snapshots;
    for (int year = 2018; year <= 2024; ++year)
      for (int month = 1; month <= 12; ++month)
        snapshots.push_back(snapshot_at(at(fmt::format("{}-{:02}-15T00:00:00Z", year, month))));
    config::Retention policy;
    policy.keep_yearly = 3;
    auto decisions = repo::apply_retention(shuffled(snapshots), policy);
    CHECK(as_utc(kept_times(decisions)) == std::vector<std::string>{"2024-12-15T00:00:00Z", "2023-12-15T00:00:00Z",
                                                                    "2022-12-15T00:00:00Z"});
    CHECK(decision_for(decisions, at("2022-12-15T00:00:00Z")).reasons == std::vector<std::string>{"yearly"});
  }
}

TEST_CASE("retention: rules combine and record every reason", "[repo][retention]") {
  use_utc();
  std::vector<repo::Snapshot> snapshots;
  int64_t start = at("2024-06-01T00:00:00Z");
  for (int hour = 0; hour < 5 * 24; hour += 6) snapshots.push_back(snapshot_at(start + hour * k_hour));
  config::Retention policy;
  policy.keep_last = 2;
  policy.keep_daily = 3;
  policy.keep_monthly = 1;
  auto decisions = repo::apply_retention(shuffled(snapshots), policy);
  CHECK(as_utc(kept_times(decisions)) == std::vector<std::string>{"2024-06-05T18:00:00Z", "2024-06-05T12:00:00Z",
                                                                  "2024-06-04T18:00:00Z", "2024-06-03T18:00:00Z"});
  CHECK(decision_for(decisions, at("2024-06-05T18:00:00Z")).reasons ==
        std::vector<std::string>{"last", "daily", "monthly"});
  CHECK(decision_for(decisions, at("2024-06-05T12:00:00Z")).reasons == std::vector<std::string>{"last"});
  CHECK(decision_for(decisions, at("2024-06-04T18:00:00Z")).reasons == std::vector<std::string>{"daily"});
  CHECK(decision_for(decisions, at("2024-06-01T00:00:00Z")).reasons.empty());
  CHECK_FALSE(decision_for(decisions, at("2024-06-01T00:00:00Z")).keep);
}

TEST_CASE("retention: an empty policy keeps everything", "[repo][retention]") {
  use_utc();
  std::vector<repo::Snapshot> snapshots;
  for (int i = 0; i < 20; ++i) snapshots.push_back(snapshot_at(at("2024-01-01T00:00:00Z") + i * k_day, i % 2 ? "a" : "b"));
  auto decisions = repo::apply_retention(snapshots, config::Retention{});
  REQUIRE(decisions.size() == 20);
  for (const auto& d : decisions) CHECK(d.keep);
  CHECK(repo::apply_retention({}, config::Retention{}).empty());
  config::Retention policy;
  policy.keep_last = 1;
  CHECK(repo::apply_retention({}, policy).empty());
}

TEST_CASE("retention: groups by host and source names are judged separately", "[repo][retention]") {
  use_utc();
  int64_t start = at("2024-02-01T00:00:00Z");
  std::vector<repo::Snapshot> snapshots;
  for (int i = 0; i < 4; ++i) {
    snapshots.push_back(snapshot_at(start + (i * 4 + 0) * k_hour, "server-a", {"data"}));
    snapshots.push_back(snapshot_at(start + (i * 4 + 1) * k_hour, "server-b", {"data"}));
    snapshots.push_back(snapshot_at(start + (i * 4 + 2) * k_hour, "server-a", {"data", "etc"}));
    // Source order does not make a new group.
    snapshots.push_back(snapshot_at(start + (i * 4 + 3) * k_hour, "server-a",
                                    i % 2 ? std::vector<std::string>{"etc", "data"} : std::vector<std::string>{"data", "etc"}));
  }
  config::Retention policy;
  policy.keep_last = 1;
  auto decisions = repo::apply_retention(shuffled(snapshots), policy);
  CHECK(kept_times(decisions) ==
        std::vector<int64_t>{start + 15 * k_hour, start + 13 * k_hour, start + 12 * k_hour});

  SECTION("a daily rule applies within each group") {
    config::Retention daily;
    daily.keep_daily = 1;
    CHECK(kept_times(repo::apply_retention(snapshots, daily)).size() == 3);
  }
}

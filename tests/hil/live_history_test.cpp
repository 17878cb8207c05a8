// A live session with a history store says in `stats` how the store is doing (issue 17; H-03,
// PL-03): fixes taken and made durable, and the writes that failed. A flush that cannot commit
// (here: another connection holds the file's write lock past the 5 s busy timeout; in the field: a
// full disk) keeps what it held, is counted and retried, so `fixes - fixes_durable` tells an
// operator what a kill -9 would lose now, and `write_errors` that the store needs attention.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <functional>

#include "history/sqlite_history.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The first `stats` (within `timeout`) whose `history` satisfies `ok`.
std::optional<json> stats_where(TestClient& c, const std::function<bool(const json&)>& ok, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    const std::optional<json> s = c.next("stats", 1500ms);
    if (s && s->contains("history") && ok((*s)["history"])) return s;
  }
  return std::nullopt;
}

TEST(LiveHistory, H03_PL03_StatsTellDurableFixesAndFailedWrites) {
  const fs::path d = temp_dir("live-history");
  std::string err;
  auto store = SqliteHistory::open((d / "history.db").string(), HistoryOptions{}, err);
  ASSERT_TRUE(store) << err;
  LiveOptions o;
  o.history = store.get();
  LiveSession s(o);
  TestClient c(s.in(), s.out());
  const std::optional<json> first = c.next("stats", 5000ms);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->contains("history")) << first->dump();
  EXPECT_EQ((*first)["history"]["write_errors"], 0);
  c.connect_push();
  for (int i = 0; i < 5; ++i) c.send("fix", fix("T1", 10 + i, 10, now_unix_ms()));
  auto durable5 = stats_where(c, [](const json& h) { return h["fixes"] == 5 && h["fixes_durable"] == 5; }, 8000ms);
  ASSERT_TRUE(durable5.has_value()) << "five fixes flushed within a few seconds";
  EXPECT_EQ((*durable5)["history"]["write_errors"], 0);

  // another writer holds the file: the next flush waits for the busy timeout (5 s) and fails
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((d / "history.db").string().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta(key, value) VALUES('held', '1');", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int i = 0; i < 3; ++i) c.send("fix", fix("T1", 20 + i, 10, now_unix_ms()));
  auto failed = stats_where(c, [](const json& h) { return h["write_errors"].get<int>() >= 1; }, 15000ms);
  ASSERT_TRUE(failed.has_value()) << "a failed flush is counted in stats";
  const json& h = (*failed)["history"];
  EXPECT_EQ(h["fixes"], 8);
  EXPECT_EQ(h["fixes_durable"], 5) << "the three newer fixes are kept, not yet durable";
  EXPECT_FALSE(h["last_write_error"].get<std::string>().empty()) << h.dump();
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  // the next flush writes them: nothing was lost
  auto caught_up = stats_where(c, [](const json& st) { return st["fixes_durable"] == 8; }, 15000ms);
  ASSERT_TRUE(caught_up.has_value()) << "the kept fixes are written once the file is free";
  EXPECT_GE((*caught_up)["history"]["write_errors"].get<int>(), 1);
  s.stop();
  EXPECT_TRUE(s.run_ok()) << s.run_error();
  EXPECT_EQ(store->stored_fixes(), 8u);
  store.reset();
  fs::remove_all(d);
}

}  // namespace
}  // namespace planttwin::hil::test

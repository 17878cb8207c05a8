// The store-and-forward outbox: one SQLite file (WAL), used by two connections (the loop thread
// writes, the sender thread reads and marks). Format in docs/uplink.md ("Outbox file").
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace planttwin::uplink {

struct PendingBatch {
  std::int64_t seq = 0;
  std::string kind, body;
  std::int64_t attempts = 0;
};

class Outbox {
 public:
  // Opens or creates the file; throws std::runtime_error naming the file.
  explicit Outbox(const std::string& path);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Random id made when the file is created; with the batch sequence it forms the idempotency key.
  const std::string& id() const { return id_; }

  // position samples: one row each, in order
  struct Sample {
    Micros t = 0;
    std::string person, record;
  };
  // one transaction; returns the row id of the last one (0 when none)
  std::int64_t add_samples(const std::vector<Sample>& samples);
  // the latest sample of each person (ordered by person id) and the largest sample row id
  std::vector<std::pair<std::string, std::string>> latest_samples(std::int64_t& max_row) const;
  std::int64_t count_samples() const;

  // Base data queued so far (persons, zones): the record last queued for each id, as its text.
  struct BaseRecord {
    std::string kind, id, record;  // record "": forget the id (it was queued as deleted)
  };
  std::map<std::string, std::string> base_records(const std::string& kind) const;

  // Adds a batch in one transaction: make_body gets the new sequence number. Samples with row id
  // <= delete_samples_upto (0: none) are deleted, and `base` remembered, in the same transaction.
  // Returns the sequence.
  std::int64_t add_batch(const std::string& kind, Micros t, int records,
                         const std::function<std::string(std::int64_t)>& make_body,
                         std::int64_t delete_samples_upto = 0, const std::vector<BaseRecord>& base = {});
  // The same for several batches of one kind in one transaction (a large set of records split to
  // the platform's batch size: all or none are stored). make_body gets (part, sequence).
  std::vector<std::int64_t> add_batches(const std::string& kind, Micros t, const std::vector<int>& records,
                                        const std::function<std::string(std::size_t, std::int64_t)>& make_body,
                                        std::int64_t delete_samples_upto = 0, const std::vector<BaseRecord>& base = {});

  std::optional<PendingBatch> next_pending() const;  // lowest sequence not yet sent or rejected
  std::int64_t count_pending() const;
  void mark_sent(std::int64_t seq, const std::string& platform_batch_id);
  void mark_failed(std::int64_t seq, const std::string& error);
  void mark_rejected(std::int64_t seq, const std::string& error);
  // deletes sent batches except the newest `keep`
  void prune_sent(int keep);
  // WAL checkpoints: off on the loop thread's connection (a checkpoint there would stall a commit),
  // done by the sender instead; on when there is no sender.
  void set_autocheckpoint(bool on);
  void checkpoint();

 private:
  void exec(const char* sql);
  sqlite3_stmt* prepare(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;
  void close();

  std::string path_, id_;
  sqlite3* db_ = nullptr;
  mutable std::map<const char*, sqlite3_stmt*> cache_;  // statements by their literal's address
};

}  // namespace planttwin::uplink

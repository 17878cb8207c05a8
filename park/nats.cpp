// Connection, streams and buckets of the park (park/park.h).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "park/nats_impl.h"

namespace planttwin::park {

std::string nats_error(natsStatus s) {
  std::string e = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && e != last) e += std::string(": ") + last;
  return e;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string site_key(const std::string& scenario_name) {
  std::string k = scenario_name;
  for (char& c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) c = '_';
  if (k.empty()) k = "_";
  return k;
}
std::string in_subject(const std::string& site) { return "park.in." + site; }
std::string out_subject(const std::string& site, const std::string& topic) { return "park.out." + site + "." + topic; }

Nats::Impl::~Impl() {
  for (kvStore* k : {sites, leases, workers, ck, status, reports})
    if (k) kvStore_Destroy(k);
  if (js) jsCtx_Destroy(js);
  if (nc) {
    natsConnection_FlushTimeout(nc, 2000);
    natsConnection_Destroy(nc);
  }
}

Nats::Nats() : impl_(std::make_unique<Impl>()) {}
Nats::~Nats() = default;

namespace {

bool add_stream(jsCtx* js, const char* name, const char* subject, int replicas, std::int64_t duplicates_ns, std::string& error) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  const char* subjects[] = {subject};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = replicas;
  if (duplicates_ns > 0) cfg.Duplicates = duplicates_ns;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
  if (si) jsStreamInfo_Destroy(si);
  if (s == NATS_OK) return true;
  // already there (perhaps with another replica count): use it as it is
  si = nullptr;
  if (js_GetStreamInfo(&si, js, name, nullptr, nullptr) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return true;
  }
  error = std::string("cannot create stream ") + name + ": " + nats_error(s);
  return false;
}

bool open_bucket(jsCtx* js, const char* bucket, int replicas, std::int64_t ttl_ns, kvStore** kv, std::string& error) {
  if (js_KeyValue(kv, js, bucket) == NATS_OK) return true;
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket;
  cfg.History = 1;
  cfg.Replicas = replicas;
  cfg.StorageType = js_FileStorage;
  if (ttl_ns > 0) cfg.TTL = ttl_ns;
  natsStatus s = js_CreateKeyValue(kv, js, &cfg);
  if (s == NATS_OK) return true;
  if (js_KeyValue(kv, js, bucket) == NATS_OK) return true;  // another process created it meanwhile
  error = std::string("cannot open key-value bucket ") + bucket + ": " + nats_error(s);
  return false;
}

}  // namespace

bool Nats::open(const std::string& url, const ParkSettings& st, std::string& error) {
  Impl& m = *impl_;
  m.url = url;
  m.settings = st;
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  std::vector<std::string> urls;
  for (size_t a = 0; a <= url.size();) {
    size_t b = url.find(',', a);
    if (b == std::string::npos) b = url.size();
    if (b > a) urls.push_back(url.substr(a, b - a));
    a = b + 1;
  }
  std::vector<const char*> servers;
  for (const std::string& u : urls) servers.push_back(u.c_str());
  natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size()));
  natsOptions_SetNoRandomize(o, true);  // the first URL first: predictable, and what the tests kill
  natsOptions_SetTimeout(o, 2000);
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 100);
  natsOptions_SetRetryOnFailedConnect(o, false, nullptr, nullptr);
  natsOptions_SetReconnectBufSize(o, 64 * 1024 * 1024);
  natsOptions_SetMaxPendingMsgs(o, 1000000);
  natsStatus s = natsConnection_Connect(&m.nc, o);
  natsOptions_Destroy(o);
  if (s != NATS_OK) {
    error = url + ": cannot connect to NATS: " + nats_error(s);
    return false;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  if ((s = natsConnection_JetStream(&m.js, m.nc, &jo)) != NATS_OK) {
    error = url + ": JetStream: " + nats_error(s);
    return false;
  }
  const int r = st.replicas;
  const std::int64_t ttl_ns = st.lease_ttl * 1000;  // kvConfig.TTL is in nanoseconds
  if (!add_stream(m.js, kInStream, "park.in.*", r, 0, error) ||
      !add_stream(m.js, kOutStream, "park.out.>", r, 120LL * 1000 * 1000 * 1000, error) ||
      !open_bucket(m.js, kSitesBucket, r, 0, &m.sites, error) || !open_bucket(m.js, kLeasesBucket, r, ttl_ns, &m.leases, error) ||
      !open_bucket(m.js, kWorkersBucket, r, ttl_ns, &m.workers, error) || !open_bucket(m.js, kCheckpointBucket, r, 0, &m.ck, error) ||
      !open_bucket(m.js, kStatusBucket, r, 0, &m.status, error) || !open_bucket(m.js, kReportsBucket, r, 0, &m.reports, error)) {
    error = url + ": " + error;
    return false;
  }
  return true;
}

std::optional<std::string> kv_get(kvStore* kv, const std::string& key, std::uint64_t* rev) {
  kvEntry* e = nullptr;
  if (kvStore_Get(&e, kv, key.c_str()) != NATS_OK || !e) {

    return std::nullopt;
  }
  std::string v(static_cast<const char*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e)));
  if (rev) *rev = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  return v;
}

bool kv_put(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t* rev) {
  std::uint64_t r = 0;
  const bool ok = kvStore_Put(&r, kv, key.c_str(), value.data(), static_cast<int>(value.size())) == NATS_OK;
  if (ok && rev) *rev = r;
  return ok;
}

bool kv_create(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t* rev) {
  std::uint64_t r = 0;
  const bool ok = kvStore_Create(&r, kv, key.c_str(), value.data(), static_cast<int>(value.size())) == NATS_OK;
  if (ok && rev) *rev = r;
  return ok;
}

bool kv_update(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t last, std::uint64_t* rev) {
  std::uint64_t r = 0;
  const bool ok = kvStore_Update(&r, kv, key.c_str(), value.data(), static_cast<int>(value.size()), last) == NATS_OK;
  if (ok && rev) *rev = r;
  return ok;
}

KvRead kv_read(kvStore* kv, const std::string& key, std::string& value, std::uint64_t& rev, int patience_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  for (;;) {
    kvEntry* e = nullptr;
    const natsStatus s = kvStore_Get(&e, kv, key.c_str());
    if (s == NATS_OK && e) {
      value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e)));
      rev = kvEntry_Revision(e);
      kvEntry_Destroy(e);
      return KvRead::found;
    }
    if (e) kvEntry_Destroy(e);
    if (s == NATS_NOT_FOUND) {
      rev = 0;
      return KvRead::absent;
    }
    if (std::chrono::steady_clock::now() >= deadline) return KvRead::unavailable;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

KvWrite kv_write_fenced(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t& rev,
                        std::string& unconfirmed, int patience_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  for (;;) {
    std::uint64_t r = 0;
    if (rev == 0 ? kv_create(kv, key, value, &r) : kv_update(kv, key, value, rev, &r)) {
      rev = r;
      unconfirmed.clear();
      return KvWrite::ok;
    }
    kvEntry* e = nullptr;
    const natsStatus s = kvStore_Get(&e, kv, key.c_str());
    if (s == NATS_OK && e) {
      const std::string now(static_cast<const char*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e)));
      const std::uint64_t cur = kvEntry_Revision(e);
      kvEntry_Destroy(e);
      if (now == value && cur != rev) {  // the failed request was applied after all
        rev = cur;
        unconfirmed.clear();
        return KvWrite::ok;
      }
      if (!unconfirmed.empty() && now == unconfirmed && cur != rev) {  // an earlier lost answer: write again from it
        rev = cur;
        unconfirmed.clear();
        continue;
      }
      if (cur != rev) return KvWrite::moved_on;
      // still at our revision, yet the update failed: the cluster is not answering writes yet
    } else if (s == NATS_NOT_FOUND || s == NATS_OK) {
      if (rev != 0) return KvWrite::moved_on;  // deleted or purged under us
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      unconfirmed = value;
      return KvWrite::unavailable;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool kv_put_patient(kvStore* kv, const std::string& key, const std::string& value, int patience_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  while (!kv_put(kv, key, value)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

namespace {
// The stream behind a bucket and the subject of a key (the KV layout of JetStream).
std::string kv_stream(kvStore* kv) { return std::string("KV_") + kvStore_Bucket(kv); }
std::string kv_subject_prefix(kvStore* kv) { return std::string("$KV.") + kvStore_Bucket(kv) + "."; }
}  // namespace

bool kv_delete(jsCtx* js, kvStore* kv, const std::string& key) {
  jsOptions o;
  jsOptions_Init(&o);
  const std::string subject = kv_subject_prefix(kv) + key;
  o.Stream.Purge.Subject = subject.c_str();
  const std::string stream = kv_stream(kv);
  return js_PurgeStream(js, stream.c_str(), &o, nullptr) == NATS_OK;
}

std::optional<std::vector<std::string>> kv_keys(jsCtx* js, kvStore* kv, int timeout_ms) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = timeout_ms;
  const std::string prefix = kv_subject_prefix(kv);
  const std::string filter = prefix + ">";
  o.Stream.Info.SubjectsFilter = filter.c_str();
  const std::string stream = kv_stream(kv);
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, js, stream.c_str(), &o, nullptr) != NATS_OK || !si) return std::nullopt;
  std::vector<std::string> out;
  if (si->State.Subjects)
    for (int i = 0; i < si->State.Subjects->Count; ++i) {
      const jsStreamStateSubject& sub = si->State.Subjects->List[i];
      if (sub.Msgs == 0 || !sub.Subject) continue;
      const std::string subj = sub.Subject;
      if (subj.compare(0, prefix.size(), prefix) == 0) out.push_back(subj.substr(prefix.size()));
    }
  jsStreamInfo_Destroy(si);
  std::sort(out.begin(), out.end());
  return out;
}

LogReader::LogReader(natsConnection* nc, std::string stream, std::string subject, std::uint64_t start_seq)
    : nc_(nc), stream_(std::move(stream)), subject_(std::move(subject)), last_sseq_(start_seq > 0 ? start_seq - 1 : 0) {
  jsOptions jo;
  jsOptions_Init(&jo);
  // creating a replicated consumer waits for its leader's election (2 to 5 s when the preferred
  // peer is the one lost); a request that does not answer in time is tried again
  jo.Wait = 4000;
  natsConnection_JetStream(&js_, nc_, &jo);
}

LogReader::~LogReader() {
  drop();
  if (js_) jsCtx_Destroy(js_);
}

void LogReader::drop() {
  if (!sub_) return;
  natsSubscription_Unsubscribe(sub_);  // deletes the consumer (bounded by the context's wait)
  natsSubscription_Destroy(sub_);
  sub_ = nullptr;
}

bool LogReader::subscribe(std::string& error) {
  drop();
  if (!js_) {
    error = "no JetStream context";
    return false;
  }
  if (replicas_ == 0) {
    jsStreamInfo* si = nullptr;
    const natsStatus s = js_GetStreamInfo(&si, js_, stream_.c_str(), nullptr, nullptr);
    if (s != NATS_OK || !si) {
      error = "cannot read stream " + stream_ + ": " + nats_error(s);
      return false;
    }
    replicas_ = static_cast<int>(std::max<std::int64_t>(1, si->Config->Replicas));
    jsStreamInfo_Destroy(si);
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream_.c_str();
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = last_sseq_ + 1;
  so.Config.AckPolicy = js_AckNone;
  so.Config.FlowControl = true;
  so.Config.Heartbeat = 1000LL * 1000 * 1000;  // 1 s: a heartbeat tells a gap at the end of the log
  so.Config.MemoryStorage = true;
  // the stream's replicas: a quorum of its peers answers (see the header); left at 0, the
  // server makes an ephemeral consumer one replica
  so.Config.Replicas = replicas_;
  so.Config.InactiveThreshold = 10LL * 1000 * 1000 * 1000;  // a reader that died leaves nothing behind
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&sub, js_, subject_.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    error = "cannot read " + subject_ + ": " + nats_error(s);
    return false;
  }
  natsSubscription_SetPendingLimits(sub, -1, -1);
  sub_ = sub;
  last_cseq_ = 0;
  quiet_since_ms_ = unix_ms_now();
  return true;
}

bool LogReader::open(int patience_ms, std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
  while (!subscribe(error)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

natsStatus LogReader::next(natsMsg** out, std::int64_t timeout_ms) {
  *out = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(1, timeout_ms));
  auto left_ms = [&] {
    return std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
  };
  for (;;) {
    if (!sub_) {
      std::string err;
      if (!subscribe(err)) {
        if (std::chrono::steady_clock::now() >= deadline) return NATS_TIMEOUT;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(100, left_ms())));
        continue;
      }
      ++recreated_;
    }
    natsMsg* msg = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&msg, sub_, left_ms());
    if (s == NATS_TIMEOUT) {
      // quiet: heartbeats come every second from a live consumer, and the client counts them as
      // activity; a consumer that is gone (its leader lost with no quorum left, or deleted) is
      // recreated after the last message taken
      const std::int64_t now = unix_ms_now();
      if (now - quiet_since_ms_ >= 5000) {
        quiet_since_ms_ = now;
        jsConsumerInfo* ci = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        if (natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &jerr) == NATS_OK && ci) jsConsumerInfo_Destroy(ci);
        else drop();
      }
      return NATS_TIMEOUT;
    }
    if (s == NATS_MISMATCH || s == NATS_SLOW_CONSUMER || s == NATS_INVALID_SUBSCRIPTION) {
      drop();  // a gap the server told (heartbeat) or messages the client dropped: from the last one taken
      continue;
    }
    if (s != NATS_OK) return s;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || !meta) {
      natsMsg_Destroy(msg);
      continue;
    }
    const std::uint64_t sseq = meta->Sequence.Stream, cseq = meta->Sequence.Consumer;
    jsMsgMetaData_Destroy(meta);
    if (sseq <= last_sseq_) {  // given already (a new consumer leader sends again what the old one sent)
      last_cseq_ = cseq;
      natsMsg_Destroy(msg);
      continue;
    }
    if (last_cseq_ != 0 && cseq != last_cseq_ + 1) {  // something in between was lost on the way
      natsMsg_Destroy(msg);
      drop();
      continue;
    }
    last_sseq_ = sseq;
    last_cseq_ = cseq;
    quiet_since_ms_ = unix_ms_now();
    *out = msg;
    return NATS_OK;
  }
}

namespace {
void on_async_error(jsCtx*, jsPubAckErr* pae, void* closure) {
  auto* c = static_cast<JsContext*>(closure);
  c->failed.fetch_add(1);
  c->last_error = pae && pae->ErrText ? pae->ErrText : "publish failed";
}
}  // namespace

bool JsContext::open(natsConnection* nc, std::string& error) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  jo.PublishAsync.MaxPending = 8192;
  jo.PublishAsync.ErrHandler = on_async_error;
  jo.PublishAsync.ErrHandlerClosure = this;
  natsStatus s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) error = "JetStream: " + nats_error(s);
  return s == NATS_OK;
}

JsContext::~JsContext() {
  if (js) jsCtx_Destroy(js);
}

bool publish_async(jsCtx* js, const std::string& subject, const std::string& data,
                   std::initializer_list<std::pair<const char*, std::string>> headers, std::string& error) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& [k, v] : headers)
    if (s == NATS_OK) s = natsMsgHeader_Set(m, k, v.c_str());
  if (s == NATS_OK) s = js_PublishMsgAsync(js, &m, nullptr);
  if (m) natsMsg_Destroy(m);
  if (s != NATS_OK) {
    error = subject + ": cannot publish: " + nats_error(s);

    return false;
  }
  return true;
}

bool publish_sync(jsCtx* js, const std::string& subject, const std::string& data,
                  std::initializer_list<std::pair<const char*, std::string>> headers, std::string& error) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& [k, v] : headers)
    if (s == NATS_OK) s = natsMsgHeader_Set(m, k, v.c_str());
  jsPubAck* ack = nullptr;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 2000;
  if (s == NATS_OK) s = js_PublishMsg(&ack, js, m, &po, nullptr);
  if (ack) jsPubAck_Destroy(ack);
  if (m) natsMsg_Destroy(m);
  if (s != NATS_OK) {
    error = subject + ": cannot publish: " + nats_error(s);
    return false;
  }
  return true;
}

bool publish_complete(jsCtx* js, std::int64_t timeout_ms, std::string& error) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  natsStatus s = js_PublishAsyncComplete(js, &po);
  if (s != NATS_OK) {
    error = "publishes not acknowledged: " + nats_error(s);

    return false;
  }
  return true;
}

}  // namespace planttwin::park

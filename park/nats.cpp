// Connection, streams and buckets of the park (park/park.h).
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

bool kv_delete(kvStore* kv, const std::string& key) {
  const bool ok = kvStore_Delete(kv, key.c_str()) == NATS_OK;
  return ok;
}

std::vector<std::string> kv_keys(kvStore* kv) {
  std::vector<std::string> out;
  kvKeysList l{};
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = 2000;
  if (kvStore_Keys(&l, kv, &wo) == NATS_OK) {
    for (int i = 0; i < l.Count; ++i) out.emplace_back(l.Keys[i]);
    kvKeysList_Destroy(&l);
  } else {

  }
  return out;
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

// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: the vault, slots and tokens (PKCS#11 §5.5).
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "src/base/bytes.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"
#include "src/core/pin_counter.h"
#include "src/crypto/random.h"

namespace certvault::core {
namespace {

constexpr char kDbName[] = "/vault.db";
constexpr char kGenName[] = "/vault.gen";
constexpr char kPinLockName[] = "/pin.lock";  // PinCheckLock (pin_lock.h)
constexpr char kManufacturer[] = "certvault";
constexpr uint64_t kUnavailable = ~uint64_t{0};  // CK_UNAVAILABLE_INFORMATION

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeVaultDir(const std::string& dir) {
  if (PathExists(dir)) return OkStatus();
  // Create missing parents too (mkdir -p), each private to the owner.
  for (size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
    std::string parent = dir.substr(0, pos);
    if (!PathExists(parent) && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) break;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(StatusCode::kUnavailable, Reason::kDeviceError, "cannot create the vault directory");
  }
  return OkStatus();
}

// AuthFlags: CKF_*_PIN_* flags of one role from its retry counter.
uint64_t AuthFlags(const storage::AuthRow& row, bool user) {
  uint64_t flags = 0;
  if (row.tries_left == 0 || !CheckCounterConsistent(row).ok()) {  // a tampered counter is locked
    flags |= user ? CKF_USER_PIN_LOCKED : CKF_SO_PIN_LOCKED;
  } else if (row.tries_left == 1) {
    flags |= user ? CKF_USER_PIN_FINAL_TRY : CKF_SO_PIN_FINAL_TRY;
  } else if (row.tries_left < row.max_tries) {
    flags |= user ? CKF_USER_PIN_COUNT_LOW : CKF_SO_PIN_COUNT_LOW;
  }
  return flags;
}

std::string SerialFor(storage::TokenId id) {
  uint8_t rnd[8];
  if (!crypto::RandomBytes(rnd).ok()) return std::to_string(id);
  return HexEncode(rnd);  // 16 hex chars, the CK_TOKEN_INFO serial width
}

TrustedClockOptions ClockOptions(const Config& config) {
  TrustedClockOptions o;
  o.source = config.time_source;
  o.max_offset_s = config.max_clock_offset_s;
  o.backward_tolerance_s = config.clock_backward_tolerance_s;
  o.check_interval_s = config.time_check_interval_s;
  o.retry_s = std::min<int64_t>(5, config.time_check_interval_s);
  return o;
}

}  // namespace

EmbeddedBackend::EmbeddedBackend(Config config, bool create_vault)
    : config_(std::move(config)),
      create_vault_(create_vault),
      pin_lock_(config_.vault_dir + kPinLockName),
      clock_(ClockOptions(config_), [this](int64_t t) -> Result<int64_t> {
        CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
        return store->RaiseTrustedTime(t);
      }),
      events_(config_.event_log) {}

EmbeddedBackend::~EmbeddedBackend() = default;

Result<storage::Store*> EmbeddedBackend::Store() {
  if (storage::Store* s = store_ptr_.load(std::memory_order_acquire)) return s;
  std::lock_guard<std::mutex> lock(store_mu_);
  if (store_ != nullptr) return store_.get();
  std::string path = config_.vault_dir + kDbName;
  if (!PathExists(config_.vault_dir)) return NotFoundError("no vault at the configured location");
  if (!PathExists(path) && !create_vault_) return NotFoundError("the vault has no database yet");
  storage::StoreOptions options;
  options.create_if_missing = true;  // the directory exists: the vault is wanted
  CV_ASSIGN_OR_RETURN(store_, storage::OpenStore(path, options));
  changes_ = std::make_unique<ChangeCounter>(config_.vault_dir + kGenName);
  store_ptr_.store(store_.get(), std::memory_order_release);
  return store_.get();
}

std::optional<uint64_t> EmbeddedBackend::StateGeneration() {
  if (store_ptr_.load(std::memory_order_acquire) == nullptr) return std::nullopt;  // changes_ not yet set
  // Both counters only grow, so their sum moves whenever either does.
  return changes_->Load() + local_changes_.load(std::memory_order_acquire);
}

Result<storage::Store*> EmbeddedBackend::CreateStoreIfMissing() {
  if (create_vault_) CV_RETURN_IF_ERROR(MakeVaultDir(config_.vault_dir));
  std::string path = config_.vault_dir + kDbName;
  if (PathExists(config_.vault_dir) && !PathExists(path)) {
    std::lock_guard<std::mutex> lock(store_mu_);
    if (store_ == nullptr) {
      storage::StoreOptions options;
      options.create_if_missing = true;
      CV_ASSIGN_OR_RETURN(store_, storage::OpenStore(path, options));
      changes_ = std::make_unique<ChangeCounter>(config_.vault_dir + kGenName);
      store_ptr_.store(store_.get(), std::memory_order_release);
    }
  }
  return Store();
}

Status EmbeddedBackend::VaultStatus() {
  if (!PathExists(config_.vault_dir)) {
    return NotFoundError("no vault at " + config_.vault_dir + "; create one with `certvault init`");
  }
  if (!PathExists(config_.vault_dir + kDbName)) return OkStatus();  // empty vault: one free slot
  Result<storage::Store*> store = Store();
  if (!store.ok()) return store.status();
  return (*store)->ListTokens().status();
}

std::shared_ptr<TokenRuntime> EmbeddedBackend::Runtime(storage::TokenId token) {
  std::lock_guard<std::mutex> lock(runtimes_mu_);
  auto& rt = runtimes_[token];
  if (rt == nullptr) rt = std::make_shared<TokenRuntime>(token);
  return rt;
}

Result<std::vector<SlotId>> EmbeddedBackend::GetSlotList(bool token_present) {
  std::vector<SlotId> slots;
  if (!PathExists(config_.vault_dir)) {
    // No vault: no slots and no error -- unless this backend may create it
    // (certvault init), when the free slot is offered.
    if (create_vault_) slots.push_back(1);
    return slots;
  }
  Result<storage::Store*> store = Store();
  if (!store.ok()) {
    // An empty vault directory offers one slot for C_InitToken; a damaged
    // database offers none (VaultStatus says why).
    if (!PathExists(config_.vault_dir + kDbName)) slots.push_back(1);
    return slots;
  }
  Result<std::vector<storage::TokenRow>> tokens = (*store)->ListTokens();
  Result<storage::TokenId> next = (*store)->NextTokenId();
  if (!tokens.ok() || !next.ok()) return slots;
  for (const storage::TokenRow& t : *tokens) slots.push_back(t.token_id);
  slots.push_back(*next);  // the free slot, with an uninitialized token
  return slots;
}

Result<storage::TokenRow> EmbeddedBackend::TokenForSlot(SlotId slot) {
  Result<storage::Store*> store = Store();
  if (!store.ok()) return Status(Reason::kSlotIdInvalid, "no such slot");
  Result<storage::TokenRow> row = (*store)->GetToken(slot);
  if (row.ok()) return row;
  if (row.status().code() != StatusCode::kNotFound) return row.status();
  return Status(Reason::kSlotIdInvalid, "no such slot");
}

Result<SlotInfo> EmbeddedBackend::GetSlotInfo(SlotId slot) {
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, GetSlotList(false));
  if (std::find(slots.begin(), slots.end(), slot) == slots.end()) {
    return Status(Reason::kSlotIdInvalid, "no such slot");
  }
  SlotInfo info;
  info.id = slot;
  info.description = "certvault slot " + std::to_string(slot);
  info.manufacturer = kManufacturer;
  info.flags = CKF_TOKEN_PRESENT;
  return info;
}

Result<TokenInfo> EmbeddedBackend::GetTokenInfo(SlotId slot) {
  TokenInfo info;
  info.manufacturer = kManufacturer;
  info.model = "software vault";
  info.max_session_count = 0;  // CK_EFFECTIVELY_INFINITE
  info.max_rw_session_count = 0;
  info.min_pin_len = config_.MinPinLength(/*so=*/false);
  info.max_pin_len = config_.pin_max_length;
  info.total_public_memory = info.free_public_memory = kUnavailable;
  info.total_private_memory = info.free_private_memory = kUnavailable;
  info.hardware_version[0] = 0;
  info.firmware_version[0] = 1;
  info.flags = CKF_RNG | CKF_LOGIN_REQUIRED;
  Result<storage::TokenRow> token = TokenForSlot(slot);
  if (!token.ok()) {
    CV_ASSIGN_OR_RETURN(SlotInfo unused, GetSlotInfo(slot));  // the free slot is valid
    (void)unused;
    return info;  // an uninitialized token: no CKF_TOKEN_INITIALIZED
  }
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  info.label = token->label;
  info.serial = token->serial;
  info.flags |= CKF_TOKEN_INITIALIZED;
  CV_ASSIGN_OR_RETURN(storage::AuthRow so, store->GetAuth(token->token_id, storage::Role::kSo));
  info.flags |= AuthFlags(so, false);
  Result<storage::AuthRow> user = store->GetAuth(token->token_id, storage::Role::kUser);
  if (user.ok()) {
    info.flags |= CKF_USER_PIN_INITIALIZED | AuthFlags(*user, true);
    if (user->flags & kAuthFlagMustChange) info.flags |= CKF_USER_PIN_TO_BE_CHANGED;
  }
  std::shared_ptr<TokenRuntime> rt = Runtime(token->token_id);
  std::shared_lock<std::shared_mutex> lock(rt->mu);
  info.session_count = rt->session_count;
  info.rw_session_count = rt->rw_session_count;
  return info;
}

Status EmbeddedBackend::CheckMechanismAllowed(const storage::TokenRow& token, MechanismType mech) {
  std::optional<std::set<MechanismType>> allowed = config_.AllowedMechanisms(token.label);
  if (allowed && allowed->count(mech) == 0) {
    return Status(Reason::kMechanismInvalid, "mechanism not allowed on this token by configuration");
  }
  return OkStatus();
}

Status EmbeddedBackend::CheckAllowed(const Session& s, MechanismType mech) {
  if (s.allowed && s.allowed->count(mech) == 0) {
    return Status(Reason::kMechanismInvalid, "mechanism not allowed on this token by configuration");
  }
  return OkStatus();
}

Result<std::vector<MechanismInfo>> EmbeddedBackend::GetMechanismList(SlotId slot) {
  CV_ASSIGN_OR_RETURN(SlotInfo unused, GetSlotInfo(slot));
  (void)unused;
  Result<storage::TokenRow> token = TokenForSlot(slot);
  std::vector<MechanismInfo> out;
  for (const MechanismInfo& m : engine::Mechanisms()) {
    if (token.ok() && !CheckMechanismAllowed(*token, m.type).ok()) continue;
    out.push_back(m);
  }
  if (token.ok()) {
    if (std::optional<MechanismInfo> q = QuorumMechanism(token->token_id)) out.push_back(*q);  // issue 16
  }
  return out;
}

Result<MechanismInfo> EmbeddedBackend::GetMechanismInfo(SlotId slot, MechanismType type) {
  CV_ASSIGN_OR_RETURN(std::vector<MechanismInfo> list, GetMechanismList(slot));
  for (const MechanismInfo& m : list) {
    if (m.type == type) return m;
  }
  return Status(Reason::kMechanismInvalid, "mechanism not supported");
}

Status EmbeddedBackend::InitToken(SlotId slot, const SecretBytes& so_pin, std::string_view label) {
  return InitTokenWithOptions(slot, so_pin, label, TokenOptions{});
}

Status EmbeddedBackend::InitTokenUnlogged(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                                          const TokenOptions& options) {
  CV_RETURN_IF_ERROR(CheckPinPolicy(so_pin, /*so=*/true));
  if (label.size() > 32) return Status(Reason::kArgumentsBad, "token label longer than 32 bytes");
  CV_ASSIGN_OR_RETURN(storage::Store * store, CreateStoreIfMissing());
  CV_ASSIGN_OR_RETURN(storage::TokenId next, store->NextTokenId());
  Result<storage::TokenRow> existing = store->GetToken(slot);
  if (!existing.ok() && slot != next) return Status(Reason::kSlotIdInvalid, "no such slot");
  if (existing.ok()) {
    std::shared_ptr<TokenRuntime> rt = Runtime(slot);
    {
      std::shared_lock<std::shared_mutex> lock(rt->mu);
      if (rt->session_count > 0) return Status(Reason::kSessionExists, "close all sessions before C_InitToken");
    }
    CV_RETURN_IF_ERROR(CheckReinitAllowed(*store, slot, nullptr));  // issue 16
    // Re-initialization requires the current SO PIN (counted like a login).
    PinCheckLock::Guard serialized(pin_lock_);
    bool must_change = false;
    CV_ASSIGN_OR_RETURN(SecretBytes key, VerifyPin(*store, slot, UserType::kSo, so_pin, &must_change));
    CV_RETURN_IF_ERROR(CheckReinitAllowed(*store, slot, &key));  // a deleted quorum record (quorum_flag.h)
    (void)events_.Unlock(*store, slot, key);  // the old audit key announces the new one
  }
  return CreateToken(slot, so_pin, label, options);
}

Status EmbeddedBackend::CreateToken(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                                    const TokenOptions& options) {
  CV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  CV_ASSIGN_OR_RETURN(SecretBytes token_key, NewTokenKey());
  storage::TokenRow row;
  row.token_id = slot;
  row.label = std::string(label);
  row.serial = SerialFor(slot);
  row.capacity = options.capacity;
  row.flags = options.user_pin_must_change ? kTokenFlagUserPinMustChange : 0;
  if (config_.event_log) row.flags |= kTokenFlagEventLog;
  row.created_unix = static_cast<int64_t>(std::time(nullptr));
  {
    CV_ASSIGN_OR_RETURN(SecretBytes ik, DeriveIntegrityKey(token_key));
    CV_ASSIGN_OR_RETURN(row.integrity, SealTokenState(ik, row, TokenState{}));  // no objects yet
  }
  CV_ASSIGN_OR_RETURN(storage::AuthRow so, SealTokenKey(slot, storage::Role::kSo, so_pin, token_key, config_.kdf,
                                                        config_.pin_max_tries));
  CV_RETURN_IF_ERROR(store->CreateToken(row, {so}));
  (void)events_.OnTokenInit(*store, slot, token_key, label);
  changes_->Bump();  // the token's old objects are gone
  std::shared_ptr<TokenRuntime> rt = Runtime(slot);
  std::unique_lock<std::shared_mutex> lock(rt->mu);
  LogoutLocked(*rt);
  return OkStatus();
}

Status EmbeddedBackend::SeedRandom(SessionHandle session, std::span<const uint8_t>) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(session));
  return Status(Reason::kRandomSeedNotSupported, "the vault's DRBG is seeded by the operating system");
}

Status EmbeddedBackend::GenerateRandom(SessionHandle session, std::span<uint8_t> out) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<Session> s, GetSession(session));
  return engine::RandomBytes(out);
}

}  // namespace certvault::core

namespace certvault {

Result<std::unique_ptr<Backend>> OpenEmbeddedBackend(const BackendOptions& options) {
  CV_ASSIGN_OR_RETURN(core::Config config, core::LoadConfig(options.vault_dir, options.config_path));
  if (options.allow_weak_pin) config.allow_weak_pin = true;
  CV_RETURN_IF_ERROR(core::CheckAgainstPolicy(config));
  config.event_log = options.event_log;
  if (config.secure_heap_kib != 0 && CRYPTO_secure_malloc_initialized() == 0) {
    size_t bytes = 4096;  // CRYPTO_secure_malloc_init wants a power of two
    while (bytes < size_t{config.secure_heap_kib} * 1024) bytes <<= 1;
    // 0 = failed (the heap stays off: allocations use the normal heap, wiped
    // on free); 2 = working but not locked (RLIMIT_MEMLOCK): still excluded
    // from core dumps.
    if (CRYPTO_secure_malloc_init(bytes, 32) == 0) {
      return Status(StatusCode::kResourceExhausted, Reason::kHostMemory, "cannot set up the secure heap");
    }
  }
  return std::unique_ptr<Backend>(new core::EmbeddedBackend(std::move(config), options.create_vault));
}

}  // namespace certvault

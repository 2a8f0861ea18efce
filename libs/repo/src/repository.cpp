#include "anemone/repo/repository.hpp"

#include <algorithm>
#include <malloc.h>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/core/log.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/file_codec.hpp"
#include "json_fields.hpp"

namespace anemone::repo {

using core::Errc;
using core::fail;
using nlohmann::json;

Repository::Repository(std::unique_ptr<Backend> backend, MasterKey key, std::string key_name, std::string id,
                       ChunkerParams params)
    : m_backend(std::move(backend)), m_key(std::move(key)), m_key_name(std::move(key_name)), m_id(std::move(id)),
      m_chunker(params, gear_table(m_key.chunker_seed)) {}

core::Result<void> Repository::init(Backend& backend, const crypto::SecretBytes& passphrase,
                                     const InitOptions& options) {
  TRY(backend.create_layout());
  MasterKey key = MasterKey::generate();
  core::Bytes key_file = TRY(make_key_file(key, passphrase, options.kdf, options.host));
  TRY(backend.save(FileType::key, core::to_hex(crypto::plain_hash(key_file)), key_file));
  uint8_t id[32];
  randombytes_buf(id, sizeof id);
  ChunkerParams params;
  json config = {{"version", k_repository_version},
                 {"id", core::to_hex(id)},
                 {"created", core::format_utc(core::now_ns())},
                 {"chunker", {{"min", params.min_size}, {"avg", params.avg_size}, {"max", params.max_size}}}};
  std::string text = config.dump(2);
  // The config is written last: its presence is what makes a repository.
  return backend.save(FileType::config, "config", seal_file(key.encryption, core::as_bytes(text)));
}

core::Result<std::unique_ptr<Repository>> Repository::open(std::unique_ptr<Backend> backend,
                                                           const crypto::SecretBytes& passphrase) {
  auto config_files = TRY(backend->list(FileType::config));
  if (config_files.empty()) return fail(Errc::repo_missing, "no repository at {}", backend->location());
  auto keys = TRY(backend->list(FileType::key));
  if (keys.empty()) return fail(Errc::corrupt, "repository at {} has no key files", backend->location());
  std::optional<MasterKey> key;
  std::string key_name;
  for (const auto& key_info : keys) {
    auto content = TRY(backend->load(FileType::key, key_info.name));
    auto opened = open_key_file(content, passphrase);
    if (opened) {
      key = std::move(*opened);
      key_name = key_info.name;
      break;
    }
    if (opened.error().code() != Errc::wrong_passphrase)
      core::log_warning("key file {}: {}", key_info.name, opened.error().message());
  }
  if (!key) return fail(Errc::wrong_passphrase, "wrong passphrase: no key of {} opens with it", backend->location());
  auto sealed = TRY(backend->load(FileType::config, "config"));
  auto plain = TRY_CTX(open_file(key->encryption, sealed), "repository config");
  json config = json::parse(plain.begin(), plain.end(), nullptr, false);
  if (config.is_discarded() || !config.is_object()) return fail(Errc::corrupt, "repository config is not JSON");
  int version = TRY_CTX(number_field<int>(config, "version"), "repository config");
  if (version != k_repository_version)
    return fail(Errc::corrupt, "repository format version {} is not supported (this program reads {})", version,
                k_repository_version);
  ChunkerParams params;
  const json chunker = config.contains("chunker") ? config["chunker"] : json::object();
  params.min_size = TRY_CTX(number_field<size_t>(chunker, "min"), "repository config chunker");
  params.avg_size = TRY_CTX(number_field<size_t>(chunker, "avg"), "repository config chunker");
  params.max_size = TRY_CTX(number_field<size_t>(chunker, "max"), "repository config chunker");
  if (params.avg_size == 0 || (params.avg_size & (params.avg_size - 1)) != 0 || params.min_size >= params.max_size ||
      params.max_size > (16u << 20))
    return fail(Errc::corrupt, "repository config: bad chunker parameters");
  return std::unique_ptr<Repository>(new Repository(std::move(backend), std::move(*key), std::move(key_name),
                                                    config.contains("id") && config["id"].is_string() ? config["id"].get<std::string>() : std::string(), params));
}

core::Result<void> Repository::load_index() {
  auto files = TRY(m_backend->list(FileType::index));
  Index index;
  for (const auto& file : files) {
    auto body = TRY_CTX(load_file(FileType::index, file.name), fmt::format("index {}", file.name));
    auto packs = TRY_CTX(Index::parse(body), fmt::format("index {}", file.name));
    for (const auto& pack : packs) index.add_pack(pack);
  }
  std::lock_guard lock(m_mutex);
  m_index = std::move(index);
  return {};
}

bool Repository::has_blob(const BlobId& id) {
  std::lock_guard lock(m_mutex);
  return m_index.has(id) || m_pending.count(id) != 0;
}

core::Result<bool> Repository::save_blob(BlobType type, const BlobId& id, core::ByteView plaintext) {
  {
    std::lock_guard lock(m_mutex);
    if (m_index.has(id) || !m_pending.insert(id).second) return false;
  }
  core::Bytes sealed = encode_blob(m_key.encryption, plaintext);
  std::optional<PackBuilder::Finished> full;
  {
    std::lock_guard lock(m_mutex);
    PackBuilder& builder = type == BlobType::tree ? m_tree_pack : m_data_pack;
    if (builder.empty() && type == BlobType::data)
      builder.reserve(k_target_pack_size + m_chunker.params().max_size + (1u << 20));
    builder.add(type, id, sealed, static_cast<uint32_t>(plaintext.size()));
    if (builder.size() >= k_target_pack_size) full = builder.finish(m_key.encryption);
  }
  m_stats.blobs_added += 1;
  m_stats.plain_bytes_added += plaintext.size();
  if (full) TRY(upload_pack(std::move(*full)));
  return true;
}

core::Result<void> Repository::upload_pack(PackBuilder::Finished pack) {
  PackUploader* uploader = nullptr;
  {
    std::lock_guard lock(m_uploader_mutex);
    if (!m_uploader)
      m_uploader = std::make_unique<PackUploader>([this](PackBuilder::Finished p) { return store_pack(std::move(p)); },
                                                  m_upload_threads, m_upload_threads);
    uploader = m_uploader.get();
  }
  return uploader->submit(std::move(pack));
}

core::Result<void> Repository::store_pack(PackBuilder::Finished pack) {
  TRY_CTX(m_backend->save(FileType::pack, pack.id, pack.data), fmt::format("upload pack {}", pack.id));
  m_stats.stored_bytes_added += pack.data.size();
  m_stats.packs_written += 1;
  pack.data = {};
  // Chunk buffers freed by several threads fragment glibc's arenas; give the free pages back so
  // memory stays flat over a long run.
  ::malloc_trim(0);
  bool checkpoint = false;
  {
    std::lock_guard lock(m_mutex);
    IndexedPack indexed{pack.id, std::move(pack.blobs)};
    m_index.add_pack(indexed);
    for (const auto& blob : indexed.blobs) m_pending.erase(blob.id);
    m_unindexed.push_back(std::move(indexed));
    checkpoint = m_unindexed.size() >= k_packs_per_index_checkpoint;
  }
  if (checkpoint) TRY(write_index_for_new_packs());
  return {};
}

core::Result<void> Repository::write_index_for_new_packs() {
  std::lock_guard writer(m_index_write_mutex);
  std::vector<IndexedPack> packs;
  {
    std::lock_guard lock(m_mutex);
    packs.swap(m_unindexed);
  }
  if (packs.empty()) return {};
  auto saved = save_file(FileType::index, Index::serialize(packs));
  if (!saved) {
    std::lock_guard lock(m_mutex);
    m_unindexed.insert(m_unindexed.end(), packs.begin(), packs.end());
    return tl::unexpected(saved.error().context("write index"));
  }
  return {};
}

core::Result<void> Repository::flush() {
  std::vector<PackBuilder::Finished> partial;
  {
    std::lock_guard lock(m_mutex);
    if (!m_data_pack.empty()) partial.push_back(m_data_pack.finish(m_key.encryption));
    if (!m_tree_pack.empty()) partial.push_back(m_tree_pack.finish(m_key.encryption));
  }
  for (auto& pack : partial) TRY(upload_pack(std::move(pack)));
  {
    std::lock_guard lock(m_uploader_mutex);
    if (m_uploader) TRY(m_uploader->drain());
  }
  return write_index_for_new_packs();
}

core::Result<core::Bytes> Repository::decode_verified(const PackedBlob& blob, core::ByteView sealed) const {
  auto plain = decode_blob(m_key.encryption, sealed);
  if (!plain) return fail(Errc::corrupt, "blob {}: {}", id_hex(blob.id), plain.error().message());
  if (blob_id(*plain) != blob.id) return fail(Errc::corrupt, "blob {}: content does not match its id", id_hex(blob.id));
  return plain;
}

core::Result<core::Bytes> Repository::load_blob(const BlobId& id) {
  std::optional<BlobLocation> location;
  {
    std::lock_guard lock(m_mutex);
    location = m_index.find(id);
  }
  if (!location) return fail(Errc::not_found, "blob {} is not in the index", id_hex(id));
  auto sealed = TRY_CTX(m_backend->load(FileType::pack, location->pack, location->blob.offset, location->blob.length),
                        fmt::format("pack {}", location->pack));
  return TRY_CTX(decode_verified(location->blob, sealed), fmt::format("pack {}", location->pack));
}

core::Result<Tree> Repository::load_tree(const BlobId& id) {
  auto body = TRY(load_blob(id));
  return TRY_CTX(parse_tree(body), fmt::format("tree {}", id_hex(id)));
}

core::Result<std::string> Repository::save_file(FileType type, core::ByteView plaintext) {
  core::Bytes sealed = seal_file(m_key.encryption, plaintext);
  std::string name = core::to_hex(crypto::plain_hash(sealed));
  TRY(m_backend->save(type, name, sealed));
  m_stats.stored_bytes_added += sealed.size();
  return name;
}

core::Result<core::Bytes> Repository::load_file(FileType type, const std::string& name) {
  auto sealed = TRY(m_backend->load(type, name));
  if (core::to_hex(crypto::plain_hash(sealed)) != name)
    return fail(Errc::corrupt, "{} file {}: content does not match its name", file_type_name(type), name);
  return open_file(m_key.encryption, sealed);
}

core::Result<std::vector<Snapshot>> Repository::list_snapshots() {
  auto files = TRY(m_backend->list(FileType::snapshot));
  std::vector<Snapshot> snapshots;
  for (const auto& file : files) {
    auto body = TRY_CTX(load_file(FileType::snapshot, file.name), fmt::format("snapshot {}", file.name));
    snapshots.push_back(TRY(parse_snapshot(body, file.name)));
  }
  std::sort(snapshots.begin(), snapshots.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return snapshots;
}

core::Result<Snapshot> Repository::find_snapshot(const std::string& reference) {
  auto snapshots = TRY(list_snapshots());
  if (snapshots.empty()) return fail(Errc::not_found, "the repository has no snapshots");
  if (reference == "latest") return snapshots.back();
  if (reference.size() < 4) return fail(Errc::usage, "snapshot id '{}' is too short (4 characters at least)", reference);
  std::vector<const Snapshot*> matches;
  for (const auto& s : snapshots)
    if (s.id.compare(0, reference.size(), reference) == 0) matches.push_back(&s);
  if (matches.empty()) return fail(Errc::not_found, "no snapshot {}", reference);
  if (matches.size() > 1) return fail(Errc::usage, "snapshot id '{}' is ambiguous", reference);
  return *matches.front();
}

core::Result<std::string> Repository::add_key(const crypto::SecretBytes& passphrase, crypto::KdfProfile profile,
                                              const std::string& host) {
  core::Bytes key_file = TRY(make_key_file(m_key, passphrase, profile, host));
  std::string name = core::to_hex(crypto::plain_hash(key_file));
  TRY(m_backend->save(FileType::key, name, key_file));
  return name;
}

} // namespace anemone::repo

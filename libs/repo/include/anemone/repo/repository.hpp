#pragma once
// An open repository: its master key, its index, and the blob store that deduplicates, packs and
// uploads. Writes are ordered: packs, then the index that names them, then (by the archiver) the
// snapshot; a reader never sees an index entry whose pack is missing.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/repo/backend.hpp"
#include "anemone/repo/chunker.hpp"
#include "anemone/repo/index.hpp"
#include "anemone/repo/keys.hpp"
#include "anemone/repo/pack.hpp"
#include "anemone/repo/pack_uploader.hpp"
#include "anemone/repo/tree.hpp"

namespace anemone::repo {

inline constexpr int k_repository_version = 1;
inline constexpr size_t k_target_pack_size = 16 * 1024 * 1024;
// After this many packs an index file is written even mid-run, so an interrupted first backup keeps
// most of its work.
inline constexpr size_t k_packs_per_index_checkpoint = 64;

struct InitOptions {
  crypto::KdfProfile kdf = crypto::KdfProfile::moderate;
  std::string host;
};

struct BlobStats {
  std::atomic<uint64_t> blobs_added{0};
  std::atomic<uint64_t> plain_bytes_added{0};
  std::atomic<uint64_t> stored_bytes_added{0}; // bytes written to the backend (packs and index files)
  std::atomic<uint64_t> packs_written{0};
};

class Repository {
public:
  static core::Result<void> init(Backend& backend, const crypto::SecretBytes& passphrase, const InitOptions& options);
  // Errc::repo_missing when there is no repository, Errc::wrong_passphrase when no key opens.
  static core::Result<std::unique_ptr<Repository>> open(std::unique_ptr<Backend> backend,
                                                        const crypto::SecretBytes& passphrase);

  const std::string& id() const { return m_id; }
  Backend& backend() { return *m_backend; }
  const MasterKey& key() const { return m_key; }
  const Chunker& chunker() const { return m_chunker; }
  const std::string& key_file_name() const { return m_key_name; }

  core::Result<void> load_index();
  const Index& index() const { return m_index; }

  BlobId blob_id(core::ByteView plaintext) const { return crypto::keyed_hash(m_key.id_key, plaintext); }
  // Thread-safe. Returns true when the blob was new. Uploads a pack when one fills up.
  core::Result<bool> save_blob(BlobType type, const BlobId& id, core::ByteView plaintext);
  bool has_blob(const BlobId& id);
  // Uploads partial packs and writes the index file for everything saved since the last flush.
  core::Result<void> flush();
  const BlobStats& stats() const { return m_stats; }
  // Background threads storing packs (1 for a local disk; a network backend may want more).
  void set_upload_threads(size_t threads) { m_upload_threads = threads; }

  // Reads, authenticates, decodes and re-hashes a blob.
  core::Result<core::Bytes> load_blob(const BlobId& id);
  core::Result<core::Bytes> decode_verified(const PackedBlob& blob, core::ByteView sealed) const;
  core::Result<Tree> load_tree(const BlobId& id);

  // Sealed metadata files (index, snapshot, lock): named by the hash of their stored bytes.
  core::Result<std::string> save_file(FileType type, core::ByteView plaintext);
  core::Result<core::Bytes> load_file(FileType type, const std::string& name);

  core::Result<std::vector<Snapshot>> list_snapshots();
  // "latest", a full id, or a unique prefix of at least 4 characters.
  core::Result<Snapshot> find_snapshot(const std::string& reference);

  core::Result<std::string> add_key(const crypto::SecretBytes& passphrase, crypto::KdfProfile profile,
                                    const std::string& host);

private:
  Repository(std::unique_ptr<Backend> backend, MasterKey key, std::string key_name, std::string id,
             ChunkerParams params);
  // Hands a full pack to the uploader (created on first use).
  core::Result<void> upload_pack(PackBuilder::Finished pack);
  // Stores a pack and indexes it in memory; runs on the uploader's threads.
  core::Result<void> store_pack(PackBuilder::Finished pack);
  core::Result<void> write_index_for_new_packs();

  std::unique_ptr<Backend> m_backend;
  MasterKey m_key;
  std::string m_key_name;
  std::string m_id;
  Chunker m_chunker;
  Index m_index;
  size_t m_upload_threads = 1;

  std::mutex m_mutex; // guards everything below and m_index after load
  PackBuilder m_data_pack;
  PackBuilder m_tree_pack;
  std::unordered_set<BlobId, BlobIdHash> m_pending; // in a pack builder or being uploaded
  std::vector<IndexedPack> m_unindexed;             // uploaded, not yet named by an index file
  std::mutex m_index_write_mutex;
  BlobStats m_stats;
  std::mutex m_uploader_mutex;
  std::unique_ptr<PackUploader> m_uploader; // last member: its threads stop before the rest goes
};

} // namespace anemone::repo

#include "anemone/repo/blob.hpp"

#include <memory>

#include <zstd.h>

namespace anemone::repo {

std::string_view blob_type_name(BlobType type) { return type == BlobType::tree ? "tree" : "data"; }

std::string id_hex(const BlobId& id) { return core::to_hex(id); }

core::Result<BlobId> parse_id(std::string_view hex) {
  auto bytes = core::from_hex(hex);
  if (!bytes || bytes->size() != std::tuple_size_v<BlobId>)
    return core::fail(core::Errc::corrupt, "'{}' is not a 64-character hex id", hex);
  BlobId id;
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

namespace {
constexpr int k_zstd_level = 2;
// Sanity bound on a decompressed blob or metadata file (a large index is the biggest).
constexpr unsigned long long k_max_plaintext = 512ull << 20;

struct CctxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
  return cctx.get();
}
struct DctxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  return dctx.get();
}
} // namespace

core::Bytes encode_blob(const crypto::SecretBytes& key, core::ByteView plaintext) {
  core::Bytes framed(1 + ZSTD_compressBound(plaintext.size()));
  size_t compressed = ZSTD_compressCCtx(thread_cctx(), framed.data() + 1, framed.size() - 1, plaintext.data(),
                                        plaintext.size(), k_zstd_level);
  if (!ZSTD_isError(compressed) && compressed < plaintext.size() - plaintext.size() / 32) {
    framed[0] = static_cast<uint8_t>(Codec::zstd);
    framed.resize(1 + compressed);
  } else {
    framed[0] = static_cast<uint8_t>(Codec::raw);
    std::copy(plaintext.begin(), plaintext.end(), framed.begin() + 1);
    framed.resize(1 + plaintext.size());
  }
  return crypto::seal(key, framed);
}

core::Result<core::Bytes> decode_blob(const crypto::SecretBytes& key, core::ByteView sealed) {
  core::Bytes framed = TRY(crypto::open(key, sealed));
  if (framed.empty()) return core::fail(core::Errc::corrupt, "empty blob frame");
  core::ByteView payload(framed.data() + 1, framed.size() - 1);
  switch (static_cast<Codec>(framed[0])) {
  case Codec::raw: return core::Bytes(payload.begin(), payload.end());
  case Codec::zstd: {
    unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > k_max_plaintext)
      return core::fail(core::Errc::corrupt, "bad zstd frame header");
    core::Bytes out(static_cast<size_t>(size));
    size_t done = ZSTD_decompressDCtx(thread_dctx(), out.data(), out.size(), payload.data(), payload.size());
    if (ZSTD_isError(done) || done != out.size())
      return core::fail(core::Errc::corrupt, "zstd: {}", ZSTD_isError(done) ? ZSTD_getErrorName(done) : "short");
    return out;
  }
  }
  return core::fail(core::Errc::corrupt, "unknown codec {}", framed[0]);
}

} // namespace anemone::repo

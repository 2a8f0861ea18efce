#include "anemone/dr/bundle.hpp"

#include <cstring>

#include <sodium.h>
#include <zstd.h>

#include <nlohmann/json.hpp>

#include "anemone/core/time.hpp"

namespace anemone::dr {

using core::Errc;
using core::fail;
using json = nlohmann::json;

namespace {

constexpr uint32_t k_bundle_version = 1;
constexpr uint64_t k_max_unpacked = 4ull << 30; // a state file of millions of rows stays far below

struct ZstdCctx {
  ZSTD_CCtx* handle = ZSTD_createCCtx();
  ~ZstdCctx() { ZSTD_freeCCtx(handle); }
};

void put_u32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}
uint32_t get_u32(const uint8_t* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(in[i]) << (8 * i);
  return value;
}

core::Result<EntryKind> kind_from_name(const std::string& name) {
  for (auto kind : {EntryKind::config, EntryKind::secret, EntryKind::passphrase, EntryKind::state})
    if (entry_kind_name(kind) == name) return kind;
  return fail(Errc::corrupt, "unknown entry kind '{}'", name);
}

} // namespace

std::string_view entry_kind_name(EntryKind kind) {
  switch (kind) {
  case EntryKind::config: return "config";
  case EntryKind::secret: return "secret";
  case EntryKind::passphrase: return "passphrase";
  case EntryKind::state: return "state";
  }
  return "?";
}

const BundleEntry* Bundle::find(EntryKind kind) const {
  for (const auto& entry : entries)
    if (entry.kind == kind) return &entry;
  return nullptr;
}

bool valid_entry_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == '\0' || c == '\n') return false;
  return true;
}

crypto::SecretBytes pack_bundle(const Bundle& bundle) {
  json files = json::array();
  size_t contents = 0;
  for (const auto& entry : bundle.entries) {
    files.push_back({{"kind", entry_kind_name(entry.kind)}, {"name", entry.name}, {"mode", entry.mode},
                     {"size", entry.content.size()}});
    contents += entry.content.size();
  }
  std::string manifest = json{{"version", k_bundle_version}, {"site", bundle.site},
                              {"created", core::format_utc_precise(bundle.created_ns)},
                              {"hostname", bundle.hostname}, {"files", files}}
                             .dump();
  crypto::SecretBytes plain(4 + manifest.size() + contents);
  put_u32(plain.data(), static_cast<uint32_t>(manifest.size()));
  std::memcpy(plain.data() + 4, manifest.data(), manifest.size());
  size_t at = 4 + manifest.size();
  for (const auto& entry : bundle.entries) {
    if (!entry.content.empty()) std::memcpy(plain.data() + at, entry.content.data(), entry.content.size());
    at += entry.content.size();
  }
  crypto::SecretBytes compressed(ZSTD_compressBound(plain.size()));
  ZstdCctx context;
  size_t size = ZSTD_compressCCtx(context.handle, compressed.data(), compressed.size(), plain.data(), plain.size(), 3);
  if (ZSTD_isError(size)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(size)); // cannot happen: the bound holds
  return crypto::SecretBytes::copy_of(compressed.view().subspan(0, size));
}

core::Result<Bundle> unpack_bundle(core::ByteView packed) {
  unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    return fail(Errc::corrupt, "the content is not one zstd frame with its size");
  if (size > k_max_unpacked || size < 4) return fail(Errc::corrupt, "the content claims {} bytes", size);
  crypto::SecretBytes plain(static_cast<size_t>(size));
  size_t got = ZSTD_decompress(plain.data(), plain.size(), packed.data(), packed.size());
  if (ZSTD_isError(got) || got != plain.size())
    return fail(Errc::corrupt, "the content does not decompress: {}", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
  uint32_t manifest_size = get_u32(plain.data());
  if (4ull + manifest_size > plain.size()) return fail(Errc::corrupt, "the manifest runs past the content");
  Bundle bundle;
  std::vector<size_t> sizes;
  try {
    json manifest = json::parse(std::string_view(reinterpret_cast<const char*>(plain.data()) + 4, manifest_size));
    if (manifest.at("version").get<uint32_t>() != k_bundle_version)
      return fail(Errc::corrupt, "bundle version {} is not supported (this build reads {})",
                  manifest.at("version").get<uint32_t>(), k_bundle_version);
    bundle.site = manifest.at("site").get<std::string>();
    auto created = core::parse_utc(manifest.at("created").get<std::string>());
    if (!created) return fail(Errc::corrupt, "the manifest's time is not valid");
    bundle.created_ns = *created;
    bundle.hostname = manifest.at("hostname").get<std::string>();
    for (const auto& file : manifest.at("files")) {
      BundleEntry entry;
      entry.kind = TRY(kind_from_name(file.at("kind").get<std::string>()));
      entry.name = file.at("name").get<std::string>();
      if (!valid_entry_name(entry.name)) return fail(Errc::corrupt, "entry name '{}' is not a plain file name", entry.name);
      entry.mode = file.at("mode").get<uint32_t>();
      if (entry.mode > 0777) return fail(Errc::corrupt, "entry {} has mode {:o}", entry.name, entry.mode);
      sizes.push_back(file.at("size").get<size_t>());
      bundle.entries.push_back(std::move(entry));
    }
  } catch (const json::exception& error) {
    return fail(Errc::corrupt, "the manifest is not valid: {}", error.what());
  }
  size_t at = 4 + manifest_size;
  for (size_t i = 0; i < bundle.entries.size(); ++i) {
    if (sizes[i] > plain.size() - at)
      return fail(Errc::corrupt, "entry {} runs past the content", bundle.entries[i].name);
    bundle.entries[i].content = crypto::SecretBytes::copy_of(plain.view().subspan(at, sizes[i]));
    at += sizes[i];
  }
  if (at != plain.size()) return fail(Errc::corrupt, "{} bytes after the last entry", plain.size() - at);
  return bundle;
}

} // namespace anemone::dr

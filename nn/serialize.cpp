// Safetensors files: the format, the atomic write, and every check a load makes; see serialize.h.
//
// The format, byte by byte (numbers little-endian, each tensor's values row-major and packed):
//
//   [ N: u64 ][ header: N bytes of UTF-8 JSON ][ data: every tensor's bytes, back to back ]
//
//   {"__metadata__": {"step": "1000"},
//    "fc1.weight": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
//    "fc1.bias": {"dtype": "F32", "shape": [4], "data_offsets": [48, 64]}}
//
// A tensor's bytes are data[begin, end) with [begin, end) its data_offsets, counted from the
// start of the data, so end − begin = numel · itemsize (8 for F64 and I64, 4 for F32, 1 for
// BOOL). A 0-d tensor has shape [] and one element; a tensor with a 0 in its shape has no bytes
// (begin == end). The rules a reader enforces, as the reference implementation does
// (huggingface/safetensors, safetensors/src/tensor.rs):
//   - 8 + N is at most the size of the file, and the header is one JSON object, no key twice;
//   - "__metadata__", if there, maps strings to strings; every other key names a tensor;
//   - the ranges tile the data exactly: sorted by begin, the first starts at 0, each starts
//     where the previous one ended, and the last ends at the end of the file. No gap, no
//     overlap, no byte left over.
// The order of the keys in the header is free. A writer pads the header with spaces to a
// multiple of 8 bytes and puts the tensors with the largest elements first; then every tensor
// starts at a multiple of its element size in the file, and a reader that maps the file into
// memory can use the bytes in place. This one reads the whole file (state files are small) and
// copies each tensor out, after checking all of the above and that every BOOL byte is 0 or 1.
//
// The header is read and written with nlohmann/json; nothing here parses JSON by hand.
#include "nn/serialize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/autograd.h"

namespace minigrad::nn {

// The bytes of a tensor are written and read as they lie in memory, which is the file's order
// only on a little-endian machine with one-byte bools.
static_assert(std::endian::native == std::endian::little, "safetensors files are little-endian");
static_assert(sizeof(bool) == 1, "a BOOL in a safetensors file is one byte");

namespace {

// ordered_json keeps keys in the order they were added, so a written header lists the metadata
// first and the tensors in the order of their bytes.
using Json = nlohmann::ordered_json;

// ---- Dtypes ---------------------------------------------------------------------------------

constexpr std::array<std::pair<Dtype, std::string_view>, 4> kDtypeNames{{
    {kFloat32, "F32"}, {kFloat64, "F64"}, {kInt64, "I64"}, {kBool, "BOOL"}}};

std::string_view safetensors_name(Dtype dtype) {
  for (const auto& [d, name] : kDtypeNames)
    if (d == dtype) return name;
  throw Error("safetensors: unknown dtype");
}

// The dtype a file's name stands for, or nothing for the names minigrad has no dtype for
// (F16, BF16, I32, U8, ...) and for names that are not safetensors dtypes at all.
std::optional<Dtype> dtype_from_name(std::string_view name) {
  for (const auto& [d, n] : kDtypeNames)
    if (n == name) return d;
  return std::nullopt;
}

// Where a tensor's values start in memory; `t` must be contiguous for them to be its bytes.
void* bytes_of(const Tensor& t) {
  return dispatch(t.dtype(), [&]<class T>() -> void* { return t.data_ptr<T>(); });
}

// ---- Writing --------------------------------------------------------------------------------

// A file written under a temporary name beside `path` and renamed over `path` by commit().
// Until then `path` is untouched; if commit() is never reached (an error, an exception) the
// destructor removes the temporary.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), temp_(path_ + ".tmp-XXXXXX") {
    // In the same directory, because rename() is atomic only within one file system.
    fd_ = ::mkstemp(temp_.data());  // replaces XXXXXX with a fresh name and creates the file
    if (fd_ < 0) fail("cannot create the temporary file \"{}.tmp-XXXXXX\"", path_);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(temp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {  // write() may take fewer bytes than offered
      const ssize_t written = ::write(fd_, bytes, size);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) fail("cannot write \"{}\"", temp_);
      bytes += written;
      size -= static_cast<std::size_t>(written);
    }
  }

  // Flushes the file to disk, then renames it over `path`, then flushes the directory: the
  // rename is atomic, but the new directory entry is durable only once the directory is.
  void commit() {
    // mkstemp made the file readable by its owner only; a saved model gets the usual 0644.
    if (::fchmod(fd_, 0644) != 0) fail("cannot set the permissions of \"{}\"", temp_);
    if (::fsync(fd_) != 0) fail("cannot flush \"{}\" to disk", temp_);
    if (::close(std::exchange(fd_, -1)) != 0) fail("cannot close \"{}\"", temp_);
    if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename \"{}\" to it", temp_);
    renamed_ = true;
    const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    const std::string directory = parent.empty() ? std::string(".") : parent.string();
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail("written, but cannot open its directory \"{}\"", directory);
    const int synced = ::fsync(dir_fd);
    const int error = errno;
    ::close(dir_fd);
    errno = error;
    if (synced != 0) fail("written, but cannot flush its directory \"{}\"", directory);
  }

 private:
  // Throws `cannot save "<path>": <what>: <the OS error>`, the OS error read from errno first.
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> what, Args&&... args) const {
    const int error = errno;
    throw Error(fmt::format("cannot save \"{}\": {}: {}", path_,
                            fmt::format(what, std::forward<Args>(args)...), std::strerror(error)));
  }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool renamed_ = false;
};

// The order the tensors' bytes go in: the largest elements first (I64 and F64, then F32, then
// BOOL), the caller's order among equals. Each tensor's size is then a multiple of the next
// one's element size, so with the header padded to a multiple of 8, every tensor starts at a
// multiple of its own element size.
std::vector<std::size_t> data_order(const NamedTensors& tensors) {
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::ranges::stable_sort(order, std::greater<>(), [&](std::size_t i) {
    return element_size(tensors[i].second.dtype());
  });
  return order;
}

std::uint64_t nbytes(const Tensor& t) {
  return static_cast<std::uint64_t>(t.numel()) * element_size(t.dtype());
}

// The header for `tensors` laid out in `order`, padded with spaces to a multiple of 8 bytes.
std::string make_header(const NamedTensors& tensors, const std::vector<std::size_t>& order,
                        const Metadata& metadata, const std::string& path) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t begin = 0;
  for (std::size_t i : order) {
    const auto& [name, t] = tensors[i];
    const std::uint64_t end = begin + nbytes(t);
    header[name] = {{"dtype", safetensors_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", Json::array({begin, end})}};
    begin = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::type_error& e) {  // a name or a metadata string that is not UTF-8
    throw Error(fmt::format("cannot save \"{}\": names and metadata must be UTF-8 text: {}",
                            path, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// ---- Reading --------------------------------------------------------------------------------

// Throws `"<path>" is not a valid safetensors file: <problem>`.
template <class... Args>
[[noreturn]] void malformed(const std::string& path, fmt::format_string<Args...> problem,
                            Args&&... args) {
  throw Error(fmt::format("\"{}\" is not a valid safetensors file: {}", path,
                          fmt::format(problem, std::forward<Args>(args)...)));
}

template <class... Args>
void require(bool ok, const std::string& path, fmt::format_string<Args...> problem,
             Args&&... args) {
  if (!ok) malformed(path, problem, std::forward<Args>(args)...);
}

// The whole file, with read() until it reports the end.
std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open \"{}\": {}", path, std::strerror(errno)));
  std::string bytes;
  std::array<char, 1 << 16> chunk;
  for (;;) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw Error(fmt::format("cannot read \"{}\": {}", path, std::strerror(error)));
    }
    if (n == 0) break;
    bytes.append(chunk.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

// The header's JSON. nlohmann keeps the last of two equal keys without a word, so a parser
// callback watches the keys of each object as it is read (one set per object still open) and
// remembers the first key that comes twice.
Json parse_json(std::string_view text, const std::string& path) {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> repeated;
  const auto watch = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !repeated) repeated = key;
    }
    return true;  // keep every value
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), watch);
  } catch (const Json::parse_error& e) {
    malformed(path, "the header is not valid JSON: {}", e.what());
  }
  require(!repeated, path, "the key \"{}\" appears twice in the header", repeated.value_or(""));
  require(header.is_object(), path, "the header is a JSON {}, not an object", header.type_name());
  return header;
}

Metadata parse_metadata(const Json& value, const std::string& path) {
  require(value.is_object(), path, "\"__metadata__\" is a JSON {}, not an object of strings",
          value.type_name());
  Metadata metadata;
  for (const auto& [key, text] : value.items()) {
    require(text.is_string(), path, "\"__metadata__\" maps \"{}\" to {}, which is not a string",
            key, text.dump());
    metadata.emplace(key, text.get<std::string>());
  }
  return metadata;
}

// One tensor's line of the header.
struct Entry {
  std::string name;
  Dtype dtype = kFloat32;
  Shape shape;
  std::uint64_t begin = 0;  // data_offsets
  std::uint64_t end = 0;
};

// numel · itemsize, or nothing if that does not fit in 64 bits.
std::optional<std::uint64_t> byte_count(const Shape& shape, std::size_t itemsize) {
  if (std::ranges::find(shape, 0) != shape.end()) return 0;
  std::uint64_t count = itemsize;
  for (std::int64_t size : shape) {
    const auto s = static_cast<std::uint64_t>(size);
    if (count > std::numeric_limits<std::uint64_t>::max() / s) return std::nullopt;
    count *= s;
  }
  return count;
}

// {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}: each field there and of its type,
// no other field, and the byte range as long as the dtype and shape say.
Entry parse_entry(const std::string& name, const Json& info, const std::string& path) {
  require(info.is_object(), path, "the entry of tensor \"{}\" is a JSON {}, not an object", name,
          info.type_name());
  for (const auto& [key, value] : info.items())
    require(key == "dtype" || key == "shape" || key == "data_offsets", path,
            "tensor \"{}\" has an unknown field \"{}\"", name, key);
  for (const char* key : {"dtype", "shape", "data_offsets"})
    require(info.contains(key), path, "tensor \"{}\" has no \"{}\"", name, key);
  Entry entry;
  entry.name = name;

  const Json& dtype = info.at("dtype");
  const std::optional<Dtype> found =
      dtype.is_string() ? dtype_from_name(dtype.get_ref<const std::string&>()) : std::nullopt;
  require(found.has_value(), path,
          "tensor \"{}\" has dtype {}; minigrad reads \"F32\", \"F64\", \"I64\" and \"BOOL\"", name,
          dtype.dump());
  entry.dtype = *found;

  const Json& shape = info.at("shape");
  require(shape.is_array(), path, "tensor \"{}\" has shape {}, not an array of sizes", name,
          shape.dump());
  for (const Json& size : shape) {
    require(size.is_number_unsigned() &&
                size.get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max(),
            path, "tensor \"{}\" has shape {}, not an array of sizes", name, shape.dump());
    entry.shape.push_back(size.get<std::int64_t>());
  }

  const Json& offsets = info.at("data_offsets");
  require(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
              offsets[1].is_number_unsigned() &&
              offsets[0].get<std::uint64_t>() <= offsets[1].get<std::uint64_t>(),
          path, "tensor \"{}\" has data_offsets {}, not [begin, end] with begin <= end", name,
          offsets.dump());
  entry.begin = offsets[0].get<std::uint64_t>();
  entry.end = offsets[1].get<std::uint64_t>();

  const std::optional<std::uint64_t> count = byte_count(entry.shape, element_size(entry.dtype));
  require(count.has_value(), path, "tensor \"{}\" has shape {}, too large to address", name,
          entry.shape);
  require(*count == entry.end - entry.begin, path,
          "tensor \"{}\" of dtype {} and shape {} needs {} bytes, but its data_offsets [{}, {}] "
          "hold {}",
          name, safetensors_name(entry.dtype), entry.shape, *count, entry.begin, entry.end,
          entry.end - entry.begin);
  return entry;
}

// Checks that the byte ranges tile data[0, size) exactly, and sorts `entries` by them.
void check_tiling(std::vector<Entry>& entries, std::uint64_t size, const std::string& path) {
  std::ranges::sort(entries, {}, [](const Entry& e) { return std::pair(e.begin, e.end); });
  std::uint64_t covered = 0;  // data[0, covered) belongs to the entries seen so far
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    require(e.end <= size, path,
            "tensor \"{}\" has data_offsets [{}, {}], past the end of the data ({} bytes)", e.name,
            e.begin, e.end, size);
    if (e.begin < covered)  // then covered > 0, so there is a previous entry
      malformed(path, "tensor \"{}\" (bytes [{}, {})) overlaps tensor \"{}\" (bytes [{}, {}))",
                e.name, e.begin, e.end, previous->name, previous->begin, previous->end);
    require(e.begin == covered, path, "bytes [{}, {}) of the data belong to no tensor", covered,
            e.begin);
    covered = e.end;
    previous = &e;
  }
  require(covered == size, path, "bytes [{}, {}) of the data belong to no tensor", covered, size);
}

// The tensor of `entry`, copied out of the data (whose range the entry was checked to fit).
Tensor read_tensor(const Entry& entry, const char* data, const std::string& path) {
  const char* bytes = data + entry.begin;
  const std::size_t size = entry.end - entry.begin;
  if (entry.dtype == kBool)  // any other byte would be an invalid C++ bool
    for (std::size_t i = 0; i < size; ++i)
      require(bytes[i] == 0 || bytes[i] == 1, path,
              "tensor \"{}\" holds the byte {} at element {}, but a BOOL is 0 or 1", entry.name,
              static_cast<int>(static_cast<unsigned char>(bytes[i])), i);
  Tensor t = empty(entry.shape, entry.dtype);
  if (size > 0) std::memcpy(bytes_of(t), bytes, size);
  return t;
}

// The check and the copy behind load() and load_state_dict(); `source` says in the error where
// the tensors came from (` from "model.safetensors"`), or is empty.
void copy_state(Module& module, const NamedTensors& state, const std::string& source) {
  std::map<std::string_view, const Tensor*> given;
  for (const auto& [name, t] : state) {
    check(t.defined(), "load_state_dict: the tensor \"{}\" is undefined", name);
    check(given.emplace(name, &t).second, "load_state_dict: the key \"{}\" appears twice", name);
  }
  NamedTensors targets = module.state_dict();
  std::set<std::string_view> expected;
  std::vector<std::string> missing, unexpected, mismatches;
  for (const auto& [name, target] : targets) {
    expected.insert(name);
    const auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(fmt::format("\"{}\"", name));
      continue;
    }
    const Tensor& t = *it->second;
    if (t.shape() != target.shape())
      mismatches.push_back(fmt::format(
          "size mismatch for {}: copying a param with shape torch.Size({}) from checkpoint, the "
          "shape in current model is torch.Size({}).",
          name, t.shape(), target.shape()));
    else if (t.dtype() != target.dtype())
      mismatches.push_back(fmt::format(
          "dtype mismatch for {}: copying a param with dtype {} from checkpoint, the dtype in "
          "current model is {}.",
          name, dtype_repr(t.dtype()), dtype_repr(target.dtype())));
  }
  for (const auto& [name, t] : state)
    if (!expected.contains(name)) unexpected.push_back(fmt::format("\"{}\"", name));

  // PyTorch's load_state_dict(strict=True): missing keys, unexpected keys, then each mismatch.
  check_state_dict_complete(fmt::format("state_dict for {}{}", module.type_name(), source), missing,
                            unexpected, mismatches);

  NoGradGuard no_grad;  // parameters are leaves that require grad; a load is not part of a graph
  for (auto& [name, target] : targets) target.copy_(*given.at(name));
}

}  // namespace

// ---- The public functions -------------------------------------------------------------------

void save_tensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  std::set<std::string_view> names;
  for (const auto& [name, t] : tensors) {
    check(t.defined(), "save_tensors: the tensor \"{}\" is undefined", name);
    check(name != "__metadata__",
          "save_tensors: \"__metadata__\" holds the metadata and cannot name a tensor");
    check(names.insert(name).second, "save_tensors: the name \"{}\" appears twice", name);
  }
  const std::vector<std::size_t> order = data_order(tensors);
  const std::string header = make_header(tensors, order, metadata, path);

  NoGradGuard no_grad;  // contiguous() of a view that requires grad need not be recorded
  AtomicFile file(path);
  const std::uint64_t header_size = header.size();
  file.write(&header_size, sizeof header_size);
  file.write(header.data(), header.size());
  for (std::size_t i : order) {
    const Tensor values = tensors[i].second.contiguous();
    file.write(bytes_of(values), nbytes(values));
  }
  file.commit();
}

TensorFile load_tensors(const std::string& path) {
  const std::string bytes = read_file(path);
  require(!bytes.empty(), path, "the file is empty");
  require(bytes.size() >= 8, path, "the file has {} bytes, fewer than the 8 of the header length",
          bytes.size());
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), sizeof header_size);
  const std::uint64_t rest = bytes.size() - 8;
  require(header_size <= rest, path, "the header length is {} bytes, but only {} bytes follow it",
          header_size, rest);

  const Json header = parse_json(std::string_view(bytes).substr(8, header_size), path);
  TensorFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      file.metadata = parse_metadata(value, path);
    else
      entries.push_back(parse_entry(key, value, path));
  }
  check_tiling(entries, rest - header_size, path);
  const char* data = bytes.data() + 8 + header_size;
  for (const Entry& entry : entries)
    file.tensors.emplace_back(entry.name, read_tensor(entry, data, path));
  return file;
}

void save(const Module& module, const std::string& path, const Metadata& metadata) {
  save_tensors(path, module.state_dict(), metadata);
}

void load(Module& module, const std::string& path) {
  copy_state(module, load_tensors(path).tensors, fmt::format(" from \"{}\"", path));
}

void load_state_dict(Module& module, const NamedTensors& state) { copy_state(module, state, ""); }

void check_state_dict_complete(const std::string& what, const std::vector<std::string>& missing,
                               const std::vector<std::string>& unexpected,
                               const std::vector<std::string>& mismatches) {
  std::vector<std::string> errors;
  if (!missing.empty())
    errors.push_back(fmt::format("Missing key(s) in state_dict: {}. ", fmt::join(missing, ", ")));
  if (!unexpected.empty())
    errors.push_back(
        fmt::format("Unexpected key(s) in state_dict: {}. ", fmt::join(unexpected, ", ")));
  errors.insert(errors.end(), mismatches.begin(), mismatches.end());
  check(errors.empty(), "Error(s) in loading {}:\n\t{}", what, fmt::join(errors, "\n\t"));
}

}  // namespace minigrad::nn

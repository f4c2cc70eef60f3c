#include "deepnet/files.hpp"

#include <zlib.h>
#ifdef DEEPNET_WITH_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/pread_all.hpp"

namespace deepnet::io {

namespace {

// The whole of a regular file of more than 2 bytes, gzip or not as asked, no
// larger than the memory limit, read with read() into memory that is not
// zero-filled first (the compressed Fashion-MNIST training images are 26 MB:
// filling them with zeros and then with the file cost about 20 ms of a 0.3 s
// start). loaded() is false for anything else, or when the file changed size
// while it was read: the caller then reads it the ordinary way, with its
// messages. (A read-only mapping would save one copy, but a file truncated by
// another process while it is decompressed would end the process with SIGBUS;
// read() cannot.)
class WholeFile {
 public:
  WholeFile(const std::string& path, bool gzip) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat info {};
    char magic[2] = {0, 0};
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 2 &&
        static_cast<std::uint64_t>(info.st_size) <= memory_limit() && ::pread(fd, magic, 2, 0) == 2 &&
        is_gzip(std::string_view(magic, 2)) == gzip) {
      const auto size = static_cast<std::size_t>(info.st_size);
      data_.reset(new (std::nothrow) char[size]);  // not zero-filled: written once, by read()
      char extra;
      if (data_ && pread_all(fd, data_.get(), size, 0) && ::pread(fd, &extra, 1, static_cast<off_t>(size)) == 0)
        size_ = size;  // nor grew
      else data_.reset();
    }
    ::close(fd);
  }
  bool loaded() const { return data_ != nullptr; }
  std::string_view bytes() const { return {data_.get(), size_}; }
  FileBytes release() {
    FileBytes bytes;
    bytes.size = size_;
    bytes.data = std::move(data_);
    size_ = 0;
    return bytes;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

}  // namespace

std::string read_whole_file(const std::string& path) {
  struct stat info {};
  const bool known = ::stat(path.c_str(), &info) == 0;
  if (known && S_ISDIR(info.st_mode)) throw Error(path + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the file for reading");
  const std::uint64_t limit = memory_limit();
  std::string bytes;
  if (known && S_ISREG(info.st_mode)) {
    // A regular file: its size is known before anything is allocated.
    const auto size = static_cast<std::uint64_t>(info.st_size);
    if (size > limit)
      throw Error(path + ": the file is " + format_bytes(size) +
                  (size < 1024 ? std::string() : " (" + std::to_string(size) + " bytes)") + ", " +
                  over_memory_limit(limit));
    bytes.resize(static_cast<std::size_t>(size));
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) throw Error(path + ": read error");
    if (static_cast<std::uint64_t>(in.gcount()) < size) return bytes;  // it shrank meanwhile
  }
  // A pipe or a device, or a file that grew: read on in chunks, up to the limit.
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > limit) throw Error(path + ": the file holds " + over_memory_limit(limit));
  }
  if (in.bad()) throw Error(path + ": read error");
  return bytes;
}

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

namespace {

// A gzip member ends with ISIZE, its uncompressed size modulo 2^32: the last
// member's ISIZE is a lower bound on the whole output (for a file as gzip
// writes it, with nothing after the last member). 0 when there is no trailer.
// A size over the memory limit is refused before anything is allocated.
std::uint64_t gzip_trailer_size(std::string_view bytes, const std::string& name) {
  if (!is_gzip(bytes) || bytes.size() < 18) return 0;
  std::uint64_t isize = 0;
  for (std::size_t k = 0; k < 4; ++k)
    isize |= std::uint64_t(static_cast<unsigned char>(bytes[bytes.size() - 4 + k])) << (8 * k);
  const std::uint64_t memory = memory_limit();
  if (isize > memory)
    throw Error(name + ": the gzip trailer records " + std::to_string(isize) + " bytes of uncompressed data (" +
                format_bytes(isize) + "), " + over_memory_limit(memory));
  return isize;
}

// The common case, one gzip member whose trailer gives the size: libdeflate
// decompresses the whole buffer at once into `out` (isize bytes), about twice
// as fast as zlib (the Fashion-MNIST training images: 83 ms against 172 ms).
// False for anything else (several members, bytes after the member, corrupt
// data, no libdeflate): zlib then does it, and words the errors.
bool inflate_single_member(std::string_view bytes, std::uint64_t isize, char* out) {
#ifdef DEEPNET_WITH_LIBDEFLATE
  struct Decompressor {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Decompressor() {
      if (d) libdeflate_free_decompressor(d);
    }
  } decompressor;
  if (!decompressor.d) return false;
  std::size_t in_used = 0, produced = 0;
  const libdeflate_result r = libdeflate_gzip_decompress_ex(decompressor.d, bytes.data(), bytes.size(), out,
                                                            static_cast<std::size_t>(isize), &in_used, &produced);
  return r == LIBDEFLATE_SUCCESS && in_used == bytes.size() && produced == isize;
#else
  (void)bytes, (void)isize, (void)out;
  return false;
#endif
}

#ifdef DEEPNET_WITH_LIBDEFLATE
constexpr bool kWholeBufferInflate = true;
#else
constexpr bool kWholeBufferInflate = false;
#endif

}  // namespace

std::string gunzip(std::string_view bytes, const std::string& name, std::size_t max_bytes) {
  const std::uint64_t memory = memory_limit();
  std::string out;
  const std::uint64_t isize = gzip_trailer_size(bytes, name);
  if (isize > 0 && isize <= max_bytes && kWholeBufferInflate) {
    out.resize(static_cast<std::size_t>(isize));
    if (inflate_single_member(bytes, isize, out.data())) return out;
    out.clear();
  }
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(isize, max_bytes)));
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK)  // 15 + 32: zlib or gzip header, detected
    throw Error(name + ": cannot start gzip decompression");
  std::size_t consumed = 0;
  char chunk[1 << 16];
  int status = Z_OK;
  while (true) {
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + consumed));
    stream.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size() - consumed, 1u << 30));
    const uInt offered = stream.avail_in;
    do {
      stream.next_out = reinterpret_cast<Bytef*>(chunk);
      stream.avail_out = sizeof chunk;
      status = inflate(&stream, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
        const std::string why = stream.msg ? stream.msg : "corrupt data";
        inflateEnd(&stream);
        throw Error(name + ": gzip data is corrupt near compressed byte " +
                    std::to_string(consumed + (offered - stream.avail_in)) + " (" + why + ")");
      }
      out.append(chunk, sizeof chunk - stream.avail_out);
      if (out.size() > memory) {
        inflateEnd(&stream);
        throw Error(name + ": the gzip data decompresses to " + over_memory_limit(memory));
      }
      if (out.size() > max_bytes) {
        inflateEnd(&stream);
        throw Error(name + ": decompresses to more than " + std::to_string(max_bytes) +
                    " bytes, the limit");
      }
    } while (stream.avail_out == 0 && status != Z_STREAM_END);
    consumed += offered - stream.avail_in;
    if (status == Z_STREAM_END) {
      if (consumed < bytes.size() && is_gzip(bytes.substr(consumed, 2))) {
        inflateReset(&stream);  // next gzip member
        continue;
      }
      break;
    }
    if (consumed >= bytes.size()) {
      inflateEnd(&stream);
      throw Error(name + ": gzip data is truncated (ends after " + std::to_string(bytes.size()) +
                  " bytes)");
    }
  }
  inflateEnd(&stream);
  return out;
}

std::string read_maybe_gzip(const std::string& path, std::size_t max_bytes) {
  {
    // A regular gzip file: its compressed bytes read once into memory not zero-filled first.
    const WholeFile file(path, true);
    if (file.loaded()) return gunzip(file.bytes(), path, max_bytes);
  }
  std::string bytes = read_whole_file(path);
  if (!is_gzip(bytes)) return bytes;
  return gunzip(bytes, path, max_bytes);
}

FileBytes read_maybe_gzip_bytes(const std::string& path, std::size_t max_bytes) {
  FileBytes result;
  {
    const WholeFile file(path, true);
    if (file.loaded()) {
      const std::uint64_t isize = gzip_trailer_size(file.bytes(), path);
      if (isize > 0 && isize <= max_bytes && kWholeBufferInflate) {
        result.data.reset(new char[static_cast<std::size_t>(isize)]);  // not zero-filled: written once, by inflate
        if (inflate_single_member(file.bytes(), isize, result.data.get())) {
          result.size = static_cast<std::size_t>(isize);
          return result;
        }
        result.data.reset();
      }
    }
  }
  {
    // Not gzip: the file's bytes as they are, read once into their place.
    WholeFile file(path, false);
    if (file.loaded() && file.bytes().size() <= max_bytes) return file.release();
  }
  const std::string bytes = read_maybe_gzip(path, max_bytes);  // the general way, with its errors
  result.data.reset(new char[bytes.size()]);
  std::memcpy(result.data.get(), bytes.data(), bytes.size());
  result.size = bytes.size();
  return result;
}

}  // namespace deepnet::io

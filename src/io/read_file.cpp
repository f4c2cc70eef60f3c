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
#include <sys/stat.h>

#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"

namespace deepnet::io {

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

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(const std::string& bytes, const std::string& name, std::size_t max_bytes) {
  const std::uint64_t memory = memory_limit();
  std::string out;
  // A gzip member ends with ISIZE, its uncompressed size modulo 2^32: the last
  // member's ISIZE is a lower bound on the whole output (for a file as gzip
  // writes it, with nothing after the last member).
  if (is_gzip(bytes) && bytes.size() >= 18) {
    std::uint64_t isize = 0;
    for (std::size_t k = 0; k < 4; ++k)
      isize |= std::uint64_t(static_cast<unsigned char>(bytes[bytes.size() - 4 + k])) << (8 * k);
    if (isize > memory)
      throw Error(name + ": the gzip trailer records " + std::to_string(isize) +
                  " bytes of uncompressed data (" + format_bytes(isize) + "), " + over_memory_limit(memory));
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(isize, max_bytes)));
  }
#ifdef DEEPNET_WITH_LIBDEFLATE
  // The common case, one gzip member whose trailer gives the size: libdeflate
  // decompresses the whole buffer at once, about twice as fast as zlib (the
  // Fashion-MNIST training images: 83 ms against 172 ms). Anything else (several
  // members, bytes after the member, corrupt data) goes through zlib below,
  // which also words the errors.
  if (is_gzip(bytes) && bytes.size() >= 18) {
    std::uint64_t isize = 0;
    for (std::size_t k = 0; k < 4; ++k)
      isize |= std::uint64_t(static_cast<unsigned char>(bytes[bytes.size() - 4 + k])) << (8 * k);
    if (isize > 0 && isize <= max_bytes) {
      struct Decompressor {
        libdeflate_decompressor* d = libdeflate_alloc_decompressor();
        ~Decompressor() {
          if (d) libdeflate_free_decompressor(d);
        }
      } decompressor;
      if (decompressor.d) {
        out.resize(static_cast<std::size_t>(isize));
        std::size_t in_used = 0, produced = 0;
        const libdeflate_result r = libdeflate_gzip_decompress_ex(decompressor.d, bytes.data(), bytes.size(), out.data(),
                                                                  out.size(), &in_used, &produced);
        if (r == LIBDEFLATE_SUCCESS && in_used == bytes.size() && produced == out.size()) return out;
        out.clear();
      }
    }
  }
#endif
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
  std::string bytes = read_whole_file(path);
  if (!is_gzip(bytes)) return bytes;
  return gunzip(bytes, path, max_bytes);
}

}  // namespace deepnet::io

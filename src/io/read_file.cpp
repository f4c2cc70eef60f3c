#include "io/read_file.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "deepnet/error.hpp"

namespace deepnet::io {

std::string read_whole_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    throw Error(path + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the file for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return buffer.str();
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(const std::string& bytes, const std::string& name, std::size_t max_bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK)  // 15 + 32: zlib or gzip header, detected
    throw Error(name + ": cannot start gzip decompression");
  std::string out;
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

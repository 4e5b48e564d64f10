// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the web server's request target -> file mapping
// (resolve_path).  Whatever the target, a file it names is under the
// root (a fixed tree made once in /tmp).
#include "web_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace v4l2vnc;

namespace {

const std::string &root()
{
	static const std::string r = [] {
		char tmpl[] = "/tmp/v4l2vnc-path-fuzz-XXXXXX";
		if (!mkdtemp(tmpl))
			std::abort();
		std::string base = tmpl;
		mkdir((base + "/root").c_str(), 0700);
		mkdir((base + "/root/app").c_str(), 0700);
		for (const char *f : {"/root/vnc.html", "/root/app/ui.js", "/secret"})
			if (FILE *fp = std::fopen((base + f).c_str(), "w"))
				std::fclose(fp);
		if (symlink((base + "/secret").c_str(), (base + "/root/link").c_str()) < 0 ||
		    symlink("..", (base + "/root/up").c_str()) < 0)
			std::abort();
		char real[PATH_MAX];
		if (!realpath((base + "/root").c_str(), real))
			std::abort();
		return std::string(real);
	}();
	return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string target(reinterpret_cast<const char *>(data), size);
	auto p = resolve_path(root(), target);
	if (p && p->compare(0, root().size() + 1, root() + "/") != 0)
		std::abort();
	return 0;
}

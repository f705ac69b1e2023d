// corio::http: an aiohttp-style HTTP/1.1 client and server over corio's
// streams (llhttp parses, nlohmann::json for JSON bodies).
#pragma once

#include "corio/http/client.hpp"
#include "corio/http/errors.hpp"
#include "corio/http/headers.hpp"
#include "corio/http/request.hpp"
#include "corio/http/response.hpp"
#include "corio/http/router.hpp"
#include "corio/http/server.hpp"

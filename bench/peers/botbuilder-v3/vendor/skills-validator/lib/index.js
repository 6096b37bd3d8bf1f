"use strict";
function __export(m) {
    for (var p in m) if (!exports.hasOwnProperty(p)) exports[p] = m[p];
}
Object.defineProperty(exports, "__esModule", { value: true });
__export(require("./credentialProvider"));
__export(require("./microsoftAppCredentials"));
__export(require("./appCredentials"));
__export(require("./jwtTokenValidation"));
__export(require("./channelValidation"));
__export(require("./emulatorValidation"));
__export(require("./endorsementsValidator"));
__export(require("./claimsIdentity"));
__export(require("./authenticationConfiguration"));
__export(require("./authenticationConstants"));
__export(require("./skillValidation"));
__export(require("./defaultAuthenticationConfiguration"));

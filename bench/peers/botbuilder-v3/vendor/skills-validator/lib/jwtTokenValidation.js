"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : new P(function (resolve) { resolve(result.value); }).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g;
    return g = { next: verb(0), "throw": verb(1), "return": verb(2) }, typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (_) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
var appCredentials_1 = require("./appCredentials");
var authenticationConfiguration_1 = require("./authenticationConfiguration");
var authenticationConstants_1 = require("./authenticationConstants");
var channelValidation_1 = require("./channelValidation");
var claimsIdentity_1 = require("./claimsIdentity");
var emulatorValidation_1 = require("./emulatorValidation");
var skillValidation_1 = require("./skillValidation");
var JwtTokenValidation;
(function (JwtTokenValidation) {
    function authenticateRequest(activity, authHeader, credentials, serviceUrl, authConfig) {
        return __awaiter(this, void 0, void 0, function () {
            var isAuthDisabled, claimsIdentity;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!authConfig) {
                            authConfig = new authenticationConfiguration_1.AuthenticationConfiguration();
                        }
                        if (!!authHeader.trim()) return [3, 2];
                        return [4, credentials.isAuthenticationDisabled()];
                    case 1:
                        isAuthDisabled = _a.sent();
                        if (isAuthDisabled) {
                            return [2, new claimsIdentity_1.ClaimsIdentity([], true)];
                        }
                        throw new Error('Unauthorized Access. Request is not authorized');
                    case 2: return [4, validateAuthHeader(authHeader, credentials, activity.address.channelId, serviceUrl, authConfig)];
                    case 3:
                        claimsIdentity = _a.sent();
                        appCredentials_1.AppCredentials.trustServiceUrl(serviceUrl);
                        return [2, claimsIdentity];
                }
            });
        });
    }
    JwtTokenValidation.authenticateRequest = authenticateRequest;
    function validateAuthHeader(authHeader, credentials, channelId, serviceUrl, authConfig) {
        if (serviceUrl === void 0) { serviceUrl = ''; }
        if (authConfig === void 0) { authConfig = new authenticationConfiguration_1.AuthenticationConfiguration(); }
        return __awaiter(this, void 0, void 0, function () {
            var identity;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!authHeader.trim()) {
                            throw new Error('\'authHeader\' required.');
                        }
                        return [4, authenticateToken(authHeader, credentials, channelId, authConfig, serviceUrl)];
                    case 1:
                        identity = _a.sent();
                        return [4, validateClaims(authConfig, identity.claims)];
                    case 2:
                        _a.sent();
                        return [2, identity];
                }
            });
        });
    }
    JwtTokenValidation.validateAuthHeader = validateAuthHeader;
    function authenticateToken(authHeader, credentials, channelId, authConfig, serviceUrl) {
        return __awaiter(this, void 0, void 0, function () {
            var usingEmulator;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!skillValidation_1.SkillValidation.isSkillToken(authHeader)) return [3, 2];
                        return [4, skillValidation_1.SkillValidation.authenticateChannelToken(authHeader, credentials, channelId, authConfig)];
                    case 1: return [2, _a.sent()];
                    case 2:
                        usingEmulator = emulatorValidation_1.EmulatorValidation.isTokenFromEmulator(authHeader);
                        if (!usingEmulator) return [3, 4];
                        return [4, emulatorValidation_1.EmulatorValidation.authenticateEmulatorToken(authHeader, credentials, channelId)];
                    case 3: return [2, _a.sent()];
                    case 4:
                        if (!serviceUrl.trim()) return [3, 6];
                        return [4, channelValidation_1.ChannelValidation.authenticateChannelTokenWithServiceUrl(authHeader, credentials, serviceUrl, channelId)];
                    case 5: return [2, _a.sent()];
                    case 6: return [4, channelValidation_1.ChannelValidation.authenticateChannelToken(authHeader, credentials, channelId)];
                    case 7: return [2, _a.sent()];
                }
            });
        });
    }
    function validateClaims(authConfig, claims) {
        if (claims === void 0) { claims = []; }
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        if (!authConfig.validateClaims) {
                            throw new Error("JwtTokenValidation.ValidateClaimsAsync.authConfig must have a ClaimsValidator.");
                        }
                        return [4, authConfig.validateClaims(claims)];
                    case 1:
                        _a.sent();
                        return [2];
                }
            });
        });
    }
    function getAppIdFromClaims(claims) {
        if (!claims) {
            throw new TypeError("JwtTokenValidation.getAppIdFromClaims(): missing claims.");
        }
        var appId;
        var versionClaim = claims.find(function (c) { return c.type === authenticationConstants_1.AuthenticationConstants.VersionClaim; });
        var versionValue = versionClaim && versionClaim.value;
        if (!versionValue || versionValue === '1.0') {
            var appIdClaim = claims.find(function (c) { return c.type === authenticationConstants_1.AuthenticationConstants.AppIdClaim; });
            appId = appIdClaim && appIdClaim.value;
        }
        else if (versionValue === '2.0') {
            var azpClaim = claims.find(function (c) { return c.type === authenticationConstants_1.AuthenticationConstants.AuthorizedParty; });
            appId = azpClaim && azpClaim.value;
        }
        return appId;
    }
    JwtTokenValidation.getAppIdFromClaims = getAppIdFromClaims;
    function isValidTokenFormat(authHeader) {
        if (!authHeader) {
            return false;
        }
        var parts = authHeader.trim().split(' ');
        if (parts.length !== 2) {
            return false;
        }
        var authScheme = parts[0];
        if (authScheme !== 'Bearer') {
            return false;
        }
        return true;
    }
    JwtTokenValidation.isValidTokenFormat = isValidTokenFormat;
})(JwtTokenValidation = exports.JwtTokenValidation || (exports.JwtTokenValidation = {}));

"""Sample data of the first-party token profiles, as conformance harnesses
(:class:`~authserver.plugin_testing.profiles.ProfileHarness`): a sample credential, the key
that verifies its tokens, the secrets that must never show, and the credentials each
profile must refuse. Generic helpers (sample tokens, signing as the core does, keys) come
from :mod:`authserver.plugin_testing.profiles`."""

from __future__ import annotations

from typing import Any

from authserver.plugin_testing.profiles import ProfileHarness, ec_pem, pem_fragments, public_pem_of, rsa_pem
from authserver_plugins.profiles.matrix import MatrixProfile
from authserver_plugins.profiles.native import NativeProfile
from authserver_plugins.profiles.stream import StreamProfile
from authserver_plugins.profiles.sunshine import SunshineProfile
from authserver_plugins.profiles.twilio import TwilioProfile
from authserver_plugins.profiles.vonage import VonageProfile

#: The entry points pyproject.toml declares (checked against it).
STATIC_PROFILES = {
    "native": "authserver_plugins.profiles.native:NativeProfile",
    "twilio": "authserver_plugins.profiles.twilio:TwilioProfile",
    "vonage": "authserver_plugins.profiles.vonage:VonageProfile",
    "sunshine": "authserver_plugins.profiles.sunshine:SunshineProfile",
    "stream": "authserver_plugins.profiles.stream:StreamProfile",
    "matrix": "authserver_plugins.profiles.matrix:MatrixProfile",
}

TWILIO_SECRET = "t" * 8 + "0123456789abcdefABCDEF01"
SUNSHINE_SECRET = "BFJJ88naxc5PZNAMU9KpBNTR"  # the 24-character example of the vendor guide
STREAM_SECRET = "s3cr3t-" + "x" * 57


def twilio_credential() -> dict[str, Any]:
    return {
        "account_sid": "AC" + "0123456789abcdef" * 2,
        "api_key_sid": "SK" + "fedcba9876543210" * 2,
        "api_key_secret": TWILIO_SECRET,
        "chat_service_sid": "IS" + "00112233445566778899aabbccddeeff",
        "push_credential_sid": "CR" + "ffeeddccbbaa99887766554433221100",
    }


def cases() -> dict[str, ProfileHarness]:
    """One harness per first-party profile, by profile name."""
    vonage_pem, matrix_pem = rsa_pem(), ec_pem()
    return {
        "native": ProfileHarness(NativeProfile),
        "twilio": ProfileHarness(
            TwilioProfile, twilio_credential(), lambda: TWILIO_SECRET, "HS256", (TWILIO_SECRET,),
            optional_keys=frozenset({"push_credential_sid"}),
            malformed=(
                ({"account_sid": "SK" + "0" * 32}, "account_sid"),
                ({"account_sid": "AC123"}, "account_sid"),
                ({"api_key_sid": "AC" + "0" * 32}, "api_key_sid"),
                ({"api_key_secret": "short-secret"}, "api_key_secret"),
                ({"chat_service_sid": "IS" + "z" * 32}, "chat_service_sid"),
                ({"push_credential_sid": "CRxyz"}, "push_credential_sid"),
                ({"api_secret": "x" * 40}, "api_secret"),
            )),
        "vonage": ProfileHarness(
            VonageProfile, {"application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "private_key": vonage_pem},
            lambda: public_pem_of(vonage_pem), "RS256", pem_fragments(vonage_pem),
            malformed=(
                ({"application_id": "my-app"}, "application_id"),
                ({"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}, "private_key"),
                ({"private_key": ec_pem()}, "private_key"),
                ({"private_key": rsa_pem(1024)}, "private_key"),
                ({"private_key": 42}, "private_key"),
            )),
        "sunshine": ProfileHarness(
            SunshineProfile, {"key_id": "app_5deaa3531c7f940010cc4ba4", "secret": SUNSHINE_SECRET},
            lambda: SUNSHINE_SECRET, "HS256", (SUNSHINE_SECRET,),
            malformed=(
                ({"secret": "too-short"}, "secret"),
                ({"secret": "has whitespace in the middle of it"}, "secret"),
                ({"key_id": "bad id!"}, "key_id"),
                ({"form": "jwt"}, "form"),
            )),
        "stream": ProfileHarness(
            StreamProfile, {"api_key": "mmhfdzb5evj2", "api_secret": STREAM_SECRET},
            lambda: STREAM_SECRET, "HS256", (STREAM_SECRET,), optional_keys=frozenset({"api_key"}),
            malformed=(
                ({"api_secret": "x" * 10}, "api_secret"),
                ({"api_key": "not valid"}, "api_key"),
            )),
        "matrix": ProfileHarness(
            MatrixProfile, {"private_key": matrix_pem, "issuer": "https://auth.example.test",
                            "audience": "matrix", "server_name": "matrix.example.test"},
            lambda: public_pem_of(matrix_pem), "ES256", pem_fragments(matrix_pem),
            optional_keys=frozenset({"issuer", "audience", "server_name", "algorithm"}),
            malformed=(
                ({"private_key": "garbage"}, "private_key"),
                ({"private_key": ec_pem("P-384")}, "private_key"),
                ({"algorithm": "RS256"}, "algorithm"),
                ({"issuer": ""}, "issuer"),
                ({"server_name": "bad/name"}, "server_name"),
            )),
    }

// ABOUTME: Fixed SSH key vectors for the auth tests: the auth.md §5.2 worked example and ssh-keygen output.
// ABOUTME: Fingerprints were computed by OpenSSH (ssh-keygen -l -E sha256), hex-encoded, so they pin our parser.
import { createPrivateKey, type KeyObject } from "node:crypto";

/** auth.md §5.2, byte for byte. */
export const SPEC_ED25519 = {
  seedHex: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
  publicKeyHex: "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
  authorizedKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk example@coven",
  fingerprint: "7959022879dce518da9c176e536be639e71b165dccf703a01dd936e08349cad6",
  timestamp: "1700000000",
  nonce: "00112233445566778899aabbccddeeff",
  signedBytes: "1700000000|00112233445566778899aabbccddeeff",
  signatureHex:
    "9d269787e313ad66daa3343f7f47edf24af66439b3c40a9420909eb952317455b8f6a4ef9b028041ab4af1fc72cb281263723e64df98887c329d71de61c3a20b",
  wireSignatureBase64:
    "AAAAC3NzaC1lZDI1NTE5AAAAQJ0ml4fjE61m2qM0P39H7fJK9mQ5s8QKlCCQnrlSMXRVuPak75sCgEGrSvH8cssoEmNyPmTfmIh8Mp1x3mHDogs=",
} as const;

/** The spec's private key, built from the seed with node:crypto only (auth.md §5.2). */
export function specEd25519PrivateKey(): KeyObject {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(SPEC_ED25519.seedHex, "hex")]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

/** Public keys written by ssh-keygen, with OpenSSH's SHA-256 fingerprints in hex. */
export const OPENSSH_KEYS = {
  rsa2048: {
    line: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC3ByvZLcGi7IF8O0hiczMhYSlre8EoDDLU2unzLpT2FuX0mH9E5c++jYSX1p7jQEJjTMMV6OCjcGlkoDhbCqtDjqV1PHTY7y08nV+nijT+yD1ERaSm72IKQwsIyNQY8nOyEk4EhPEjEDVaLQQWn8FqKCOBW/eOwDfNxN06R+r+IDE1Fiq1HjBULtlBasyOgqsq2Chv+I+Tr6opMtg9nDJ/89x+Ry2m2NQT3KvGsXlrn1n6pTaxxIph1NygrLZ/Pam5xKqrF0erl9rKj/dGndLX1J0YMt+PT9AnufVFnINswRpQNi2eNTpyvLOktQFvTZ63IRQPnfCWQtsB5rqtOtkp rsa@vec",
    fingerprint: "5e6dfc53c9205eadcd987ff4e1d4a2901b4649eb50a436634db3a44cfaecf908",
  },
  ecdsa256: {
    line: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHjXLvZH1OWB/isCz6M9yvo829OWEOnUOIZDWFwPHBRFPB44YFSG1XtovOb8Ayk6tW+jCAf64t4yqPQwcdZY6G8= ec@vec",
    fingerprint: "d7548321addfe1bbf6d4f1dcf3fc1b462c7076ad131dffff3d77e6fe000e7631",
  },
  ecdsa521: {
    line: "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAD8mmuy9QxHA/br6pw/1szm0fsJE0fdTpmh0sR/ohrgTA+YXf2DZ3KPGrtTAckUHJT77F0NzTa1QqnLESn8EM92GgHgIU2FPG0iWOmy1a8bo9BNJIrMnKl5OMyWeT/wgZgNsSOoqFqJzZd9UwApM75lSlhHl8a2A5kgHMhWwg7DsdAgkA== ec521@vec",
    fingerprint: "4b04739903b953017e6a5393709b128487f511edc6646f4afa3b935a40104a24",
  },
  ed25519: {
    line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDj180GVBg8Xhtnk3Xu8o4bykgKdZWe9kij652ScUKXE ed@vec",
    fingerprint: "7abea58a1a3d4f11e838ec948dac6207e36fcd35e71998804645b7ccdf9018c2",
  },
  dsa: {
    line: "ssh-dss AAAAB3NzaC1kc3MAAACBAOx6dixKG4Mq25ChsV+sllVYzVPEaxDPr0anuUo5/UJA7Z7lqJszUSPQ4Re0y5L9fhmMvuuA44g9ieVfq2f/Nzraluo4sC2X2XO4qVy+wsWtwDereXJzmsxx5qU/jWRS2nelo+MiV4Tfwl0Cl++8jGCeuC1EyY9diAyShRqyBIcvAAAAFQDtwiYHGpeNHRJ7ti8rshBwj3GgCwAAAIEAjCpfd0uO6b6cvOQnGBou5lYGu0NuYFfdkvb5QjXaAo9BKxWiPwLP6+kdgrVZpfiKK6NShoxVAKFT6H7pT4UmQxOivMlqTvliyFm70PuZYkE1asqVXzGqCTQSxtQ/p6elo64gjP/F5Yfxd8NhG/UXi1OYxfEAeBu26gPUT9tJIwsAAACBAN1qcbeRUQz6fuXWqZvQNiryimyeLCed9hmRz4iRsF1oDVposXBbWHtphoejDpe2NCml8BGtud2hZXOQaSykZs0yOSIcvwgB+tIYg127GqMGNWIRVi/9SZeR4rM9utyVO6AzamfUUb/kvZZ0yHw9BxJP0tYlKcYgqI6jX5e6GYCQ dsa@vec",
    fingerprint: "c661528193851c90b083fb457a59132a85316f1c4b71e7ab39dd3a8c5cde6722",
  },
} as const;

/** The private half of OPENSSH_KEYS.ecdsa256 (a throwaway test key), so a node:crypto signature meets an OpenSSH blob. */
export const OPENSSH_ECDSA256_PRIVATE_PEM = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIPGYONp+x3+Vfi5dAooPBV1pLM63Q9+NpX6LF3kmMuQCoAoGCCqGSM49
AwEHoUQDQgAEeNcu9kfU5YH+KwLPoz3K+jzb05YQ6dQ4hkNYXA8cFEU8HjhgVIbV
e2i85vwDKTq1b6MIB/ri3jKo9DBx1ljobw==
-----END EC PRIVATE KEY-----
`;

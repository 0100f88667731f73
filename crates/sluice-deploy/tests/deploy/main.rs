//! Integration tests of sluice-deploy: the proxy between real clients
//! (curl, raw sockets) and small colours served by the test.

mod backend;
mod proxy;

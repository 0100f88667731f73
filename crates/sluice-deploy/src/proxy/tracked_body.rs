//! A response body that keeps its route in use until it is fully sent, so
//! a colour is not stopped while a long download from it is under way.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};

use super::table::Target;

pub(crate) struct TrackedBody {
    inner: Incoming,
    _route: Arc<Target>,
}

impl TrackedBody {
    pub fn new(inner: Incoming, route: Arc<Target>) -> Self {
        TrackedBody {
            inner,
            _route: route,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

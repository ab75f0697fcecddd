//! A server generic over what it stores.
use bough::prelude::*;

#[gen_server(restart = "transient")]
pub struct Store<T: Clone + Send + Sync + 'static, const N: usize> {
    items: Vec<T>,
}

pub enum Request<T> {
    Put(T),
    Len,
}

impl<T: Clone + Send + Sync + 'static, const N: usize> GenServer for Store<T, N> {
    type Args = Vec<T>;
    type Call = Request<T>;
    type Reply = usize;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(items: Vec<T>) -> Init<Self> {
        Init::Ok(Store { items })
    }

    async fn handle_call(&mut self, request: Request<T>, _: ReplyTo<usize>) -> Reply<Self> {
        match request {
            Request::Put(item) if self.items.len() < N => self.items.push(item),
            Request::Put(_) | Request::Len => {}
        }
        Reply::Reply(self.items.len())
    }
}

supervisor! {
    pub Stores { strategy: one_for_one, children: [(Store<String, 4>, Vec::new()), (Store<u8, 2>, vec![1])] }
}

fn main() {
    assert_eq!(Store::<u8, 2>::child_spec(vec![]).restart_type(), Restart::Transient);
}
